//! Command-line values: parsing arguments by parameter type and printing results.
//!
//! Integers are decimal or hexadecimal (`0x…`, optionally signed); an `i32` accepts
//! `-2147483648..=4294967295` (values above `i32::MAX` are taken as their two's-complement
//! bit pattern), and likewise for `i64`. Floats use Rust's syntax, which includes `nan`,
//! `inf` and `-inf`. References can only be given as `null`.

use kuai::{Val, ValType};

/// Parses an integer literal into the range `min..=max`.
fn parse_int(text: &str, min: i128, max: i128) -> Option<i128> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    // `from_str_radix` and `parse` accept a sign of their own; only one is allowed.
    if unsigned.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = match unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")) {
        Some(hex) if !hex.starts_with(['+', '-']) => i128::from_str_radix(hex, 16).ok()?,
        Some(_) => return None,
        None => unsigned.parse::<i128>().ok()?,
    };
    let value = if negative { -magnitude } else { magnitude };
    (min..=max).contains(&value).then_some(value)
}

/// Parses one command-line argument as a value of type `ty`.
pub fn parse_arg(text: &str, ty: ValType) -> Option<Val> {
    match ty {
        ValType::I32 => parse_int(text, i32::MIN.into(), u32::MAX.into()).map(|v| Val::I32(v as u32 as i32)),
        ValType::I64 => parse_int(text, i64::MIN.into(), u64::MAX.into()).map(|v| Val::I64(v as u64 as i64)),
        ValType::F32 => text.parse::<f32>().ok().map(|f| Val::F32(f.to_bits())),
        ValType::F64 => text.parse::<f64>().ok().map(|f| Val::F64(f.to_bits())),
        ValType::FuncRef => (text == "null").then_some(Val::FuncRef(None)),
        ValType::ExternRef => (text == "null").then_some(Val::ExternRef(None)),
        ValType::V128 => {
            let hex = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))?;
            u128::from_str_radix(&hex.replace('_', ""), 16).ok().map(Val::V128)
        }
        _ => None,
    }
}

/// Formats a result: integers as signed decimals, floats like Rust's `{}`, references as
/// `null` or `ref`.
pub fn format_val(val: &Val) -> String {
    if let Val::I32(v) = val {
        v.to_string()
    } else if let Val::I64(v) = val {
        v.to_string()
    } else if let Val::F32(bits) = val {
        f32::from_bits(*bits).to_string()
    } else if let Val::F64(bits) = val {
        f64::from_bits(*bits).to_string()
    } else if let Val::FuncRef(r) = val {
        if r.is_some() { "ref".into() } else { "null".into() }
    } else if let Val::ExternRef(r) = val {
        if r.is_some() { "ref".into() } else { "null".into() }
    } else if let Val::V128(v) = val {
        // As the spec interpreter prints vectors: four 32-bit lanes, lane 0 first.
        let lanes: Vec<String> = (0..4).map(|i| format!("0x{:08x}", (v >> (32 * i)) as u32)).collect();
        format!("i32x4 {}", lanes.join(" "))
    } else {
        format!("<{}>", val.ty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i32_of(text: &str) -> Option<i32> {
        match parse_arg(text, ValType::I32)? {
            Val::I32(v) => Some(v),
            _ => None,
        }
    }

    fn i64_of(text: &str) -> Option<i64> {
        match parse_arg(text, ValType::I64)? {
            Val::I64(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn integers() {
        assert_eq!(i32_of("30"), Some(30));
        assert_eq!(i32_of("-5"), Some(-5));
        assert_eq!(i32_of("+5"), Some(5));
        assert_eq!(i32_of("0x10"), Some(16));
        assert_eq!(i32_of("-0x10"), Some(-16));
        assert_eq!(i32_of("0xffffffff"), Some(-1));
        assert_eq!(i32_of("4294967295"), Some(-1));
        assert_eq!(i32_of("-2147483648"), Some(i32::MIN));
        assert_eq!(i32_of("4294967296"), None);
        assert_eq!(i32_of("-2147483649"), None);
        assert_eq!(i32_of("--5"), None);
        assert_eq!(i32_of("0x-5"), None);
        assert_eq!(i32_of("0x"), None);
        assert_eq!(i32_of(""), None);
        assert_eq!(i32_of("1.5"), None);
        assert_eq!(i32_of("abc"), None);
        assert_eq!(i64_of("0xffffffffffffffff"), Some(-1));
        assert_eq!(i64_of("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(i64_of("18446744073709551616"), None);
    }

    #[test]
    fn floats() {
        assert!(matches!(parse_arg("1.5", ValType::F32), Some(Val::F32(b)) if f32::from_bits(b) == 1.5));
        assert!(matches!(parse_arg("nan", ValType::F64), Some(Val::F64(b)) if f64::from_bits(b).is_nan()));
        assert!(matches!(parse_arg("-inf", ValType::F64), Some(Val::F64(b)) if f64::from_bits(b) == f64::NEG_INFINITY));
        assert!(matches!(parse_arg("inf", ValType::F32), Some(Val::F32(b)) if f32::from_bits(b) == f32::INFINITY));
        assert!(parse_arg("x", ValType::F32).is_none());
        assert_eq!(parse_arg("0x1_0000_0000", ValType::V128), Some(Val::V128(1 << 32)));
        assert_eq!(format_val(&Val::V128(1 << 32 | 2)), "i32x4 0x00000002 0x00000001 0x00000000 0x00000000");
    }

    #[test]
    fn refs_and_formatting() {
        assert!(matches!(parse_arg("null", ValType::FuncRef), Some(Val::FuncRef(None))));
        assert!(parse_arg("0", ValType::ExternRef).is_none());
        assert_eq!(format_val(&Val::I32(-1)), "-1");
        assert_eq!(format_val(&Val::I64(832040)), "832040");
        assert_eq!(format_val(&Val::F32(1.5f32.to_bits())), "1.5");
        assert_eq!(format_val(&Val::F64(f64::NAN.to_bits())), "NaN");
        assert_eq!(format_val(&Val::ExternRef(None)), "null");
    }
}
