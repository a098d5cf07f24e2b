//! Sandbox controls (fuel metering, epoch interruption, resource limits) in the compiled
//! tier: the same cases as `sandbox.rs`, the same numbers.

#![cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]

const STRATEGY: kuai::Strategy = kuai::Strategy::Compile;

include!("sandbox/cases.rs");
