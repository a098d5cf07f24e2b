//! Converting script values to Kuai [`Val`]s and checking results against expectations.
//!
//! Arguments (`i32.const 1`, `ref.null func`, `ref.extern 7`, ...) become [`Val`]s; a
//! `ref.extern N` argument is an [`ExternRef`] holding the `u32` N. Results are compared
//! bit-exactly, except for the `nan:canonical` / `nan:arithmetic` float patterns and for
//! references, where `ref.extern N` is compared by downcasting the host data to `u32`
//! and `ref.func` only asks for a non-null function reference.

use crate::report::FailureReason;
use kuai::{ExternRef, Store, Val};
use wast::WastArg;
use wast::WastRet;
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64};

/// Which of the two WebAssembly 2.0 reference types a heap type denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Func,
    Extern,
}

fn ref_kind(heap: &HeapType<'_>) -> Option<RefKind> {
    match heap {
        HeapType::Abstract { shared: false, ty: AbstractHeapType::Func | AbstractHeapType::NoFunc } => {
            Some(RefKind::Func)
        }
        HeapType::Abstract { shared: false, ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern } => {
            Some(RefKind::Extern)
        }
        _ => None,
    }
}

/// Turns an `invoke` argument into a value, allocating extern references in `store`.
pub(crate) fn arg_to_val(store: &mut Store<()>, arg: &WastArg<'_>) -> Result<Val, FailureReason> {
    let WastArg::Core(core) = arg else {
        return Err(FailureReason::UnsupportedValue("component-model argument".into()));
    };
    Ok(match core {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::RefNull(heap) => match ref_kind(heap) {
            Some(RefKind::Func) => Val::FuncRef(None),
            Some(RefKind::Extern) => Val::ExternRef(None),
            None => return Err(FailureReason::UnsupportedValue(format!("ref.null {heap:?}"))),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(&mut *store, *n))),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefHost(n) => return Err(FailureReason::UnsupportedValue(format!("ref.host {n}"))),
    })
}

/// Bit patterns of the canonical NaNs (either sign) and of the quiet bit.
const F32_CANONICAL_NAN: u32 = 0x7fc0_0000;
const F64_CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

fn f32_matches(bits: u32, pattern: &NanPattern<F32>) -> bool {
    match pattern {
        NanPattern::Value(v) => v.bits == bits,
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == F32_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F32_CANONICAL_NAN == F32_CANONICAL_NAN,
    }
}

fn f64_matches(bits: u64, pattern: &NanPattern<F64>) -> bool {
    match pattern {
        NanPattern::Value(v) => v.bits == bits,
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == F64_CANONICAL_NAN,
        NanPattern::ArithmeticNan => bits & F64_CANONICAL_NAN == F64_CANONICAL_NAN,
    }
}

/// Whether a `v128` matches a lane pattern; float lanes may be NaN patterns.
fn v128_matches(v: u128, pattern: &V128Pattern) -> bool {
    let bytes = v.to_le_bytes();
    let lane = |i: usize, n: usize| bytes[i * n..(i + 1) * n].iter().rev().fold(0u64, |acc, b| acc << 8 | *b as u64);
    match pattern {
        V128Pattern::I8x16(l) => l.iter().enumerate().all(|(i, x)| lane(i, 1) as u8 == *x as u8),
        V128Pattern::I16x8(l) => l.iter().enumerate().all(|(i, x)| lane(i, 2) as u16 == *x as u16),
        V128Pattern::I32x4(l) => l.iter().enumerate().all(|(i, x)| lane(i, 4) as u32 == *x as u32),
        V128Pattern::I64x2(l) => l.iter().enumerate().all(|(i, x)| lane(i, 8) == *x as u64),
        V128Pattern::F32x4(l) => l.iter().enumerate().all(|(i, p)| f32_matches(lane(i, 4) as u32, p)),
        V128Pattern::F64x2(l) => l.iter().enumerate().all(|(i, p)| f64_matches(lane(i, 8), p)),
    }
}

/// Whether `val` satisfies the expectation `ret`.
///
/// Errors only for expectations Kuai cannot have produced (v128, GC references).
pub(crate) fn matches(store: &Store<()>, val: &Val, ret: &WastRet<'_>) -> Result<bool, FailureReason> {
    let WastRet::Core(core) = ret else {
        return Err(FailureReason::UnsupportedValue("component-model result".into()));
    };
    matches_core(store, val, core)
}

fn matches_core(store: &Store<()>, val: &Val, ret: &WastRetCore<'_>) -> Result<bool, FailureReason> {
    Ok(match ret {
        WastRetCore::I32(want) => matches!(val, Val::I32(v) if v == want),
        WastRetCore::I64(want) => matches!(val, Val::I64(v) if v == want),
        WastRetCore::F32(pattern) => matches!(val, Val::F32(bits) if f32_matches(*bits, pattern)),
        WastRetCore::F64(pattern) => matches!(val, Val::F64(bits) if f64_matches(*bits, pattern)),
        WastRetCore::RefNull(heap) => {
            let wanted = match heap {
                None => None,
                Some(h) => match ref_kind(h) {
                    Some(kind) => Some(kind),
                    None => return Err(FailureReason::UnsupportedValue(format!("ref.null {h:?}"))),
                },
            };
            match val {
                Val::FuncRef(None) => wanted.is_none_or(|k| k == RefKind::Func),
                Val::ExternRef(None) => wanted.is_none_or(|k| k == RefKind::Extern),
                _ => false,
            }
        }
        WastRetCore::RefExtern(want) => match val {
            Val::ExternRef(Some(r)) => match want {
                None => true,
                Some(n) => r.data(store).downcast_ref::<u32>() == Some(n),
            },
            _ => false,
        },
        WastRetCore::RefFunc(_) => matches!(val, Val::FuncRef(Some(_))),
        WastRetCore::V128(pattern) => matches!(val, Val::V128(v) if v128_matches(*v, pattern)),
        WastRetCore::Either(cases) => {
            for case in cases {
                if matches_core(store, val, case)? {
                    return Ok(true);
                }
            }
            false
        }
        other => return Err(FailureReason::UnsupportedValue(render_ret_core(other))),
    })
}

/// Renders a value for failure messages, e.g. `i32:-1`, `f32:0x7fc00000 (NaN)`.
pub(crate) fn render_val(store: &Store<()>, val: &Val) -> String {
    if let Val::I32(v) = val {
        format!("i32:{v}")
    } else if let Val::I64(v) = val {
        format!("i64:{v}")
    } else if let Val::F32(bits) = val {
        format!("f32:{:#010x} ({})", bits, f32::from_bits(*bits))
    } else if let Val::F64(bits) = val {
        format!("f64:{:#018x} ({})", bits, f64::from_bits(*bits))
    } else if let Val::FuncRef(r) = val {
        if r.is_some() { "ref.func".to_string() } else { "ref.null func".to_string() }
    } else if let Val::ExternRef(r) = val {
        match r {
            None => "ref.null extern".to_string(),
            Some(r) => match r.data(store).downcast_ref::<u32>() {
                Some(n) => format!("ref.extern {n}"),
                None => "ref.extern (host data)".to_string(),
            },
        }
    } else if let Val::V128(v) = val {
        format!("v128:{v:#034x}")
    } else {
        format!("<{}>", val.ty())
    }
}

/// Renders a list of values as `[a, b]`.
pub(crate) fn render_vals(store: &Store<()>, vals: &[Val]) -> String {
    let items: Vec<String> = vals.iter().map(|v| render_val(store, v)).collect();
    format!("[{}]", items.join(", "))
}

fn render_f32(p: &NanPattern<F32>) -> String {
    match p {
        NanPattern::Value(v) => format!("f32:{:#010x} ({})", v.bits, f32::from_bits(v.bits)),
        NanPattern::CanonicalNan => "f32:nan:canonical".into(),
        NanPattern::ArithmeticNan => "f32:nan:arithmetic".into(),
    }
}

fn render_f64(p: &NanPattern<F64>) -> String {
    match p {
        NanPattern::Value(v) => format!("f64:{:#018x} ({})", v.bits, f64::from_bits(v.bits)),
        NanPattern::CanonicalNan => "f64:nan:canonical".into(),
        NanPattern::ArithmeticNan => "f64:nan:arithmetic".into(),
    }
}

fn render_ret_core(ret: &WastRetCore<'_>) -> String {
    match ret {
        WastRetCore::I32(v) => format!("i32:{v}"),
        WastRetCore::I64(v) => format!("i64:{v}"),
        WastRetCore::F32(p) => render_f32(p),
        WastRetCore::F64(p) => render_f64(p),
        WastRetCore::RefNull(None) => "ref.null".into(),
        WastRetCore::RefNull(Some(h)) => match ref_kind(h) {
            Some(RefKind::Func) => "ref.null func".into(),
            Some(RefKind::Extern) => "ref.null extern".into(),
            None => format!("ref.null {h:?}"),
        },
        WastRetCore::RefExtern(None) => "ref.extern".into(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefFunc(_) => "ref.func".into(),
        WastRetCore::Either(cases) => {
            let items: Vec<String> = cases.iter().map(render_ret_core).collect();
            format!("either({})", items.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

/// Renders a list of expected results as `[a, b]`.
pub(crate) fn render_rets(rets: &[WastRet<'_>]) -> String {
    let items: Vec<String> = rets
        .iter()
        .map(|r| match r {
            WastRet::Core(core) => render_ret_core(core),
            _ => "<component value>".to_string(),
        })
        .collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32p(bits: u32) -> NanPattern<F32> {
        NanPattern::Value(F32 { bits })
    }

    #[test]
    fn f32_nan_patterns() {
        assert!(f32_matches(0x7fc0_0000, &NanPattern::CanonicalNan));
        assert!(f32_matches(0xffc0_0000, &NanPattern::CanonicalNan));
        assert!(!f32_matches(0x7fc0_0001, &NanPattern::CanonicalNan));
        assert!(f32_matches(0x7fc0_0001, &NanPattern::ArithmeticNan));
        assert!(f32_matches(0xffe0_0000, &NanPattern::ArithmeticNan));
        // A signalling NaN is not arithmetic.
        assert!(!f32_matches(0x7fa0_0000, &NanPattern::ArithmeticNan));
        assert!(!f32_matches(0x3f80_0000, &NanPattern::ArithmeticNan));
        assert!(f32_matches(0x8000_0000, &f32p(0x8000_0000)));
        assert!(!f32_matches(0x0000_0000, &f32p(0x8000_0000)));
    }

    #[test]
    fn f64_nan_patterns() {
        assert!(f64_matches(0x7ff8_0000_0000_0000, &NanPattern::CanonicalNan));
        assert!(f64_matches(0xfff8_0000_0000_0000, &NanPattern::CanonicalNan));
        assert!(!f64_matches(0x7ff8_0000_0000_0001, &NanPattern::CanonicalNan));
        assert!(f64_matches(0x7ff8_0000_0000_0001, &NanPattern::ArithmeticNan));
        assert!(!f64_matches(0x7ff4_0000_0000_0000, &NanPattern::ArithmeticNan));
        assert!(!f64_matches(0x7ff0_0000_0000_0000, &NanPattern::ArithmeticNan));
    }

    #[test]
    fn renders_expectations() {
        assert_eq!(render_f32(&NanPattern::CanonicalNan), "f32:nan:canonical");
        assert_eq!(render_f64(&NanPattern::Value(F64 { bits: 0 })), "f64:0x0000000000000000 (0)");
        assert_eq!(render_ret_core(&WastRetCore::RefExtern(Some(3))), "ref.extern 3");
    }
}
