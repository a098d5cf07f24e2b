//! Tables ([spec: table instances]).
//!
//! [spec: table instances]: https://webassembly.github.io/spec/core/exec/runtime.html#table-instances

use crate::types::TableType;

/// A table's elements (untyped references, `0` = null) and type.
#[derive(Debug)]
pub(crate) struct TableData {
    pub ty: TableType,
    pub elems: Vec<u64>,
}

impl TableData {
    /// The most elements a table may hold (a Kuai limit, 10 Mi).
    pub(crate) const MAX_ELEMS: u64 = 10 * 1024 * 1024;

    pub(crate) fn new(ty: TableType, init: u64) -> Option<TableData> {
        if ty.limits.min > Self::MAX_ELEMS {
            return None;
        }
        let mut elems = Vec::new();
        elems.try_reserve_exact(ty.limits.min as usize).ok()?;
        elems.resize(ty.limits.min as usize, init);
        Some(TableData { ty, elems })
    }

    /// Grows by `delta` elements set to `init`; returns the old size, or `None`.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elems.len() as u64;
        let new = old.checked_add(delta)?;
        let max = self.ty.limits.max.unwrap_or(u32::MAX as u64).min(Self::MAX_ELEMS);
        if new > max {
            return None;
        }
        self.elems.try_reserve_exact(delta as usize).ok()?;
        self.elems.resize(new as usize, init);
        self.ty.limits.min = new;
        Some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_grows_within_its_maximum() {
        let mut t = TableData::new(TableType::new(crate::ValType::FuncRef, 1, Some(3)), 0).unwrap();
        assert_eq!(t.grow(2, 7), Some(1));
        assert_eq!(t.elems, vec![0, 7, 7]);
        assert_eq!(t.grow(1, 0), None);
    }
}
