//! Sandbox controls (fuel metering, epoch interruption, resource limits) tiered, with the
//! default threshold and background compilation: the same cases as `sandbox.rs`, the same
//! numbers, whenever the code switches tiers.

#![cfg(all(feature = "compiler", target_arch = "x86_64", target_os = "linux"))]

const STRATEGY: kuai::Strategy = kuai::Strategy::Tiered;

include!("sandbox/cases.rs");
