//! Traps: the ways a running WebAssembly program can fail ([spec: execution]).
//!
//! Every [`Trap`] prints exactly the text the official spec test suite expects, so a
//! `assert_trap` directive can compare messages directly. A trap raised while running
//! code carries a [`Backtrace`] of the wasm frames that were live at the time.
//!
//! [spec: execution]: https://webassembly.github.io/spec/core/exec/index.html

use std::fmt;

/// Why execution of WebAssembly code stopped abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum Trap {
    /// The `unreachable` instruction was executed.
    Unreachable,
    /// A load or store, or a bulk memory operation, touched bytes outside the memory.
    MemoryOutOfBounds,
    /// A table access (or bulk table operation) was outside the table.
    TableOutOfBounds,
    /// `call_indirect` found a null entry in the table.
    UninitializedElement,
    /// `call_indirect` found an index past the end of the table.
    UndefinedElement,
    /// `call_indirect` found a function of the wrong type.
    IndirectCallTypeMismatch,
    /// Integer division or remainder by zero.
    IntegerDivideByZero,
    /// Signed division overflow (`INT_MIN / -1`) or a float-to-int conversion out of range.
    IntegerOverflow,
    /// A float-to-int conversion of NaN.
    InvalidConversionToInteger,
    /// The call stack (frames or value slots) ran out.
    StackOverflow,
    /// A null reference was dereferenced.
    NullReference,
    /// The store's fuel ran out ([`Config::consume_fuel`](crate::Config::consume_fuel)).
    OutOfFuel,
    /// The store's epoch deadline passed
    /// ([`Config::epoch_interruption`](crate::Config::epoch_interruption)).
    Interrupt,
}

impl Trap {
    /// The message the spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        match self {
            Trap::Unreachable => "unreachable",
            Trap::MemoryOutOfBounds => "out of bounds memory access",
            Trap::TableOutOfBounds => "out of bounds table access",
            Trap::UninitializedElement => "uninitialized element",
            Trap::UndefinedElement => "undefined element",
            Trap::IndirectCallTypeMismatch => "indirect call type mismatch",
            Trap::IntegerDivideByZero => "integer divide by zero",
            Trap::IntegerOverflow => "integer overflow",
            Trap::InvalidConversionToInteger => "invalid conversion to integer",
            Trap::StackOverflow => "call stack exhausted",
            Trap::NullReference => "null reference",
            Trap::OutOfFuel => "all fuel consumed by WebAssembly",
            Trap::Interrupt => "interrupt",
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Trap {}

/// One wasm frame of a [`Backtrace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// The function's index in its module's function index space.
    pub func_index: u32,
    /// The function's name from the module's name section, if it has one.
    pub func_name: Option<String>,
    /// The module's name (from the name section), if it has one.
    pub module_name: Option<String>,
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = &self.module_name {
            write!(f, "{m}!")?;
        }
        match &self.func_name {
            Some(name) => write!(f, "{name} (func {})", self.func_index),
            None => write!(f, "func {}", self.func_index),
        }
    }
}

/// The wasm frames live when a trap happened, innermost first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backtrace {
    frames: Vec<FrameInfo>,
}

impl Backtrace {
    pub(crate) fn new(frames: Vec<FrameInfo>) -> Self {
        Backtrace { frames }
    }

    /// The frames, innermost (the one that trapped) first.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }
}

impl fmt::Display for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, frame) in self.frames.iter().enumerate() {
            writeln!(f, "  {i}: {frame}")?;
        }
        Ok(())
    }
}

/// A [`Trap`] together with where it happened.
///
/// `Display` prints only the trap's message (so it matches the spec suite's text); the
/// backtrace is available from [`TrapError::backtrace`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrapError {
    trap: Trap,
    backtrace: Backtrace,
}

impl TrapError {
    pub(crate) fn new(trap: Trap, backtrace: Backtrace) -> Self {
        TrapError { trap, backtrace }
    }

    /// The kind of trap.
    pub fn trap(&self) -> Trap {
        self.trap
    }

    /// The wasm frames live at the trap, innermost first.
    pub fn backtrace(&self) -> &Backtrace {
        &self.backtrace
    }

    /// Adds the frames of `outer`, the activation below the one that trapped.
    #[cfg_attr(not(all(feature = "compiler", target_arch = "x86_64", target_os = "linux")), allow(dead_code))]
    pub(crate) fn extend_backtrace(&mut self, outer: Backtrace) {
        self.backtrace.frames.extend(outer.frames);
    }
}

impl fmt::Display for TrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.trap.message())
    }
}

impl std::error::Error for TrapError {}

impl From<Trap> for TrapError {
    fn from(trap: Trap) -> Self {
        TrapError::new(trap, Backtrace::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_the_spec_suite() {
        assert_eq!(Trap::IntegerDivideByZero.to_string(), "integer divide by zero");
        assert_eq!(Trap::StackOverflow.to_string(), "call stack exhausted");
        assert_eq!(Trap::UndefinedElement.to_string(), "undefined element");
        assert_eq!(Trap::MemoryOutOfBounds.to_string(), "out of bounds memory access");
        assert_eq!(Trap::IndirectCallTypeMismatch.to_string(), "indirect call type mismatch");
    }

    #[test]
    fn trap_error_displays_only_the_message() {
        let bt = Backtrace::new(vec![FrameInfo { func_index: 3, func_name: Some("f".into()), module_name: None }]);
        let e = TrapError::new(Trap::Unreachable, bt);
        assert_eq!(e.to_string(), "unreachable");
        assert_eq!(e.backtrace().to_string(), "  0: f (func 3)\n");
    }
}
