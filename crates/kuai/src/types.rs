//! Types of values and external objects ([spec: types]).
//!
//! [spec: types]: https://webassembly.github.io/spec/core/syntax/types.html

use std::fmt;

/// The type of a WebAssembly value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit IEEE 754 float.
    F32,
    /// 64-bit IEEE 754 float.
    F64,
    /// A nullable reference to a function.
    FuncRef,
    /// A nullable reference to a host object.
    ExternRef,
    /// A 128-bit vector (SIMD).
    V128,
}

impl ValType {
    /// Whether this is a reference type.
    pub fn is_ref(self) -> bool {
        matches!(self, ValType::FuncRef | ValType::ExternRef)
    }

    /// How many 64-bit slots a value of this type occupies in a frame.
    pub(crate) fn slots(self) -> u32 {
        if self == ValType::V128 { 2 } else { 1 }
    }

    pub(crate) fn from_wasmparser(ty: wasmparser::ValType) -> Option<ValType> {
        Some(match ty {
            wasmparser::ValType::I32 => ValType::I32,
            wasmparser::ValType::I64 => ValType::I64,
            wasmparser::ValType::F32 => ValType::F32,
            wasmparser::ValType::F64 => ValType::F64,
            wasmparser::ValType::Ref(r) => RefKind::from_wasmparser(r)?.into(),
            wasmparser::ValType::V128 => ValType::V128,
        })
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::V128 => "v128",
        })
    }
}

/// The two reference types of WebAssembly 2.0, as element types of tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RefKind {
    Func,
    Extern,
}

impl RefKind {
    pub(crate) fn from_wasmparser(r: wasmparser::RefType) -> Option<RefKind> {
        if r == wasmparser::RefType::FUNCREF {
            Some(RefKind::Func)
        } else if r == wasmparser::RefType::EXTERNREF {
            Some(RefKind::Extern)
        } else {
            None
        }
    }
}

impl From<RefKind> for ValType {
    fn from(r: RefKind) -> ValType {
        match r {
            RefKind::Func => ValType::FuncRef,
            RefKind::Extern => ValType::ExternRef,
        }
    }
}

/// The signature of a function: parameter and result types.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params_results: Box<[ValType]>,
    num_params: usize,
}

impl FuncType {
    /// A function type with the given parameters and results.
    pub fn new(params: impl IntoIterator<Item = ValType>, results: impl IntoIterator<Item = ValType>) -> Self {
        let mut all: Vec<ValType> = params.into_iter().collect();
        let num_params = all.len();
        all.extend(results);
        FuncType { params_results: all.into_boxed_slice(), num_params }
    }

    /// The parameter types.
    #[inline]
    pub fn params(&self) -> &[ValType] {
        &self.params_results[..self.num_params]
    }

    /// The result types.
    #[inline]
    pub fn results(&self) -> &[ValType] {
        &self.params_results[self.num_params..]
    }
}

impl fmt::Debug for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, tys: &[ValType]| -> fmt::Result {
            for (i, t) in tys.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{t}")?;
            }
            Ok(())
        };
        f.write_str("(func (param ")?;
        list(f, self.params())?;
        f.write_str(") (result ")?;
        list(f, self.results())?;
        f.write_str("))")
    }
}

/// Size limits of a memory or table, in pages or elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// The initial (minimum) size.
    pub min: u64,
    /// The maximum size, if any.
    pub max: Option<u64>,
}

impl Limits {
    /// Import subtyping of limits: `self` (the provided object) matches `wanted`.
    pub(crate) fn matches(&self, wanted: &Limits) -> bool {
        self.min >= wanted.min
            && match (self.max, wanted.max) {
                (_, None) => true,
                (Some(have), Some(want)) => have <= want,
                (None, Some(_)) => false,
            }
    }
}

impl fmt::Display for Limits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) => write!(f, "{} {max}", self.min),
            None => write!(f, "{}", self.min),
        }
    }
}

/// The type of a linear memory: its limits in 64 KiB pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MemoryType {
    pub(crate) limits: Limits,
}

impl MemoryType {
    /// A memory of `min` pages that may grow to `max` pages.
    pub fn new(min: u32, max: Option<u32>) -> Self {
        MemoryType { limits: Limits { min: min.into(), max: max.map(Into::into) } }
    }

    /// The initial size in pages.
    pub fn minimum(&self) -> u64 {
        self.limits.min
    }

    /// The maximum size in pages, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.limits.max
    }
}

impl fmt::Display for MemoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(memory {})", self.limits)
    }
}

/// The type of a table: element type and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableType {
    pub(crate) element: ValType,
    pub(crate) limits: Limits,
}

impl TableType {
    /// A table of `element` references (`FuncRef` or `ExternRef`).
    pub fn new(element: ValType, min: u32, max: Option<u32>) -> Self {
        TableType { element, limits: Limits { min: min.into(), max: max.map(Into::into) } }
    }

    /// The element type.
    pub fn element(&self) -> ValType {
        self.element
    }

    /// The initial size in elements.
    pub fn minimum(&self) -> u64 {
        self.limits.min
    }

    /// The maximum size in elements, if any.
    pub fn maximum(&self) -> Option<u64> {
        self.limits.max
    }
}

impl fmt::Display for TableType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(table {} {})", self.limits, self.element)
    }
}

/// Whether a global can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

/// The type of a global: value type and mutability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlobalType {
    pub(crate) content: ValType,
    pub(crate) mutability: Mutability,
}

impl GlobalType {
    /// A global holding `content`.
    pub fn new(content: ValType, mutability: Mutability) -> Self {
        GlobalType { content, mutability }
    }

    /// The value type.
    pub fn content(&self) -> ValType {
        self.content
    }

    /// Whether it is mutable.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
}

impl fmt::Display for GlobalType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mutability {
            Mutability::Const => write!(f, "(global {})", self.content),
            Mutability::Var => write!(f, "(global (mut {}))", self.content),
        }
    }
}

/// The type of an import or export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
}

impl fmt::Display for ExternType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExternType::Func(t) => write!(f, "{t}"),
            ExternType::Table(t) => write!(f, "{t}"),
            ExternType::Memory(t) => write!(f, "{t}"),
            ExternType::Global(t) => write!(f, "{t}"),
        }
    }
}

/// An import of a module: where it comes from and what it must be.
#[derive(Debug, Clone)]
pub struct ImportType<'m> {
    pub(crate) module: &'m str,
    pub(crate) name: &'m str,
    pub(crate) ty: ExternType,
}

impl<'m> ImportType<'m> {
    /// The module name of the import.
    pub fn module(&self) -> &'m str {
        self.module
    }

    /// The field name of the import.
    pub fn name(&self) -> &'m str {
        self.name
    }

    /// The type the import must have.
    pub fn ty(&self) -> &ExternType {
        &self.ty
    }
}

/// An export of a module: its name and type.
#[derive(Debug, Clone)]
pub struct ExportType<'m> {
    pub(crate) name: &'m str,
    pub(crate) ty: ExternType,
}

impl<'m> ExportType<'m> {
    /// The export's name.
    pub fn name(&self) -> &'m str {
        self.name
    }

    /// The export's type.
    pub fn ty(&self) -> &ExternType {
        &self.ty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn func_type_splits_params_and_results() {
        let t = FuncType::new([ValType::I32, ValType::I64], [ValType::F32]);
        assert_eq!(t.params(), &[ValType::I32, ValType::I64]);
        assert_eq!(t.results(), &[ValType::F32]);
        assert_eq!(t.to_string(), "(func (param i32 i64) (result f32))");
    }

    #[test]
    fn limits_subtyping() {
        let l = |min, max| Limits { min, max };
        assert!(l(2, Some(3)).matches(&l(1, Some(4))));
        assert!(!l(2, None).matches(&l(1, Some(4))));
        assert!(l(2, None).matches(&l(2, None)));
        assert!(!l(1, Some(2)).matches(&l(2, None)));
    }
}
