//! Sandbox controls (fuel metering, epoch interruption, resource limits) in the interpreter.

const STRATEGY: kuai::Strategy = kuai::Strategy::Interpret;

include!("sandbox/cases.rs");
