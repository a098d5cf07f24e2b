//! Numeric semantics that Rust's operators do not give directly ([spec: numerics]):
//! IEEE min/max with wasm's NaN and signed-zero rules, trapping float-to-int
//! conversions, and trapping integer division.
//!
//! [spec: numerics]: https://webassembly.github.io/spec/core/exec/numerics.html

use crate::trap::Trap;

macro_rules! float_minmax {
    ($min:ident, $max:ident, $f:ty) => {
        /// wasm `min`: NaN if either is NaN; `-0 < +0`.
        pub(super) fn $min(a: $f, b: $f) -> $f {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                // Equal values differ at most in the sign of zero: prefer negative.
                return <$f>::from_bits(a.to_bits() | b.to_bits());
            }
            if a < b { a } else { b }
        }

        /// wasm `max`: NaN if either is NaN; `+0 > -0`.
        pub(super) fn $max(a: $f, b: $f) -> $f {
            if a.is_nan() || b.is_nan() {
                return a + b;
            }
            if a == b {
                return <$f>::from_bits(a.to_bits() & b.to_bits());
            }
            if a > b { a } else { b }
        }
    };
}

float_minmax!(f32_min, f32_max, f32);
float_minmax!(f64_min, f64_max, f64);

macro_rules! trunc {
    ($name:ident, $f:ty, $i:ty, $lo:expr, $hi:expr) => {
        /// Truncates toward zero; traps on NaN or when the result does not fit.
        pub(super) fn $name(x: $f) -> Result<$i, Trap> {
            if x.is_nan() {
                return Err(Trap::InvalidConversionToInteger);
            }
            // The bounds are exclusive and exactly representable in the float type.
            if !(x > $lo && x < $hi) {
                return Err(Trap::IntegerOverflow);
            }
            Ok(x as $i)
        }
    };
}

trunc!(i32_trunc_f32, f32, i32, -2147483904.0_f32, 2147483648.0_f32);
trunc!(u32_trunc_f32, f32, u32, -1.0_f32, 4294967296.0_f32);
trunc!(i32_trunc_f64, f64, i32, -2147483649.0_f64, 2147483648.0_f64);
trunc!(u32_trunc_f64, f64, u32, -1.0_f64, 4294967296.0_f64);
trunc!(i64_trunc_f32, f32, i64, -9223373136366403584.0_f32, 9223372036854775808.0_f32);
trunc!(u64_trunc_f32, f32, u64, -1.0_f32, 18446744073709551616.0_f32);
trunc!(i64_trunc_f64, f64, i64, -9223372036854777856.0_f64, 9223372036854775808.0_f64);
trunc!(u64_trunc_f64, f64, u64, -1.0_f64, 18446744073709551616.0_f64);

macro_rules! div {
    ($div_s:ident, $rem_s:ident, $div_u:ident, $rem_u:ident, $s:ty, $u:ty) => {
        pub(super) fn $div_s(a: $s, b: $s) -> Result<$s, Trap> {
            if b == 0 {
                return Err(Trap::IntegerDivideByZero);
            }
            a.checked_div(b).ok_or(Trap::IntegerOverflow)
        }

        pub(super) fn $rem_s(a: $s, b: $s) -> Result<$s, Trap> {
            if b == 0 {
                return Err(Trap::IntegerDivideByZero);
            }
            Ok(a.wrapping_rem(b))
        }

        pub(super) fn $div_u(a: $u, b: $u) -> Result<$u, Trap> {
            a.checked_div(b).ok_or(Trap::IntegerDivideByZero)
        }

        pub(super) fn $rem_u(a: $u, b: $u) -> Result<$u, Trap> {
            a.checked_rem(b).ok_or(Trap::IntegerDivideByZero)
        }
    };
}

div!(i32_div_s, i32_rem_s, i32_div_u, i32_rem_u, i32, u32);
div!(i64_div_s, i64_rem_s, i64_div_u, i64_rem_u, i64, u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_max_follow_wasm_rules() {
        assert!(f32_min(0.0, -0.0).is_sign_negative());
        assert!(f32_max(-0.0, 0.0).is_sign_positive());
        assert!(f64_min(f64::NAN, 1.0).is_nan());
        assert_eq!(f64_max(1.0, 2.0), 2.0);
    }

    #[test]
    fn truncation_traps_at_the_edges() {
        assert_eq!(i32_trunc_f32(-2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f32(2147483648.0), Err(Trap::IntegerOverflow));
        assert_eq!(u32_trunc_f64(-0.9), Ok(0));
        assert_eq!(u32_trunc_f64(-1.0), Err(Trap::IntegerOverflow));
        assert_eq!(i64_trunc_f64(f64::NAN), Err(Trap::InvalidConversionToInteger));
        assert_eq!(i32_trunc_f64(-2147483648.9), Ok(i32::MIN));
    }

    #[test]
    fn division_traps() {
        assert_eq!(i32_div_s(i32::MIN, -1), Err(Trap::IntegerOverflow));
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i64_div_u(1, 0), Err(Trap::IntegerDivideByZero));
    }
}
