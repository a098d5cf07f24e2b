//! Errors that stop a whole script from running.
//!
//! Failures of single directives are not errors: they are counted in the
//! [`WastReport`](crate::WastReport). Only a script that cannot be parsed at all, or a
//! runner that cannot set up the `spectest` module, yields a [`WastError`].

/// Why a script could not be run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WastError {
    /// The script is not valid `.wast` syntax.
    #[error("{file}:{line}:{col}: cannot parse the script: {message}")]
    Parse {
        /// The script's name.
        file: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        col: usize,
        /// The parser's message.
        message: String,
    },
    /// Defining the `spectest` host module failed.
    #[error("cannot define the `spectest` module: {0}")]
    Spectest(#[source] kuai::Error),
}

impl WastError {
    pub(crate) fn parse(file: &str, source: &str, err: &wast::Error) -> Self {
        let (line, col) = err.span().linecol_in(source);
        WastError::Parse { file: file.to_string(), line: line + 1, col: col + 1, message: err.message() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_shows_position() {
        let e = WastError::Parse { file: "a.wast".into(), line: 2, col: 5, message: "unexpected token".into() };
        assert_eq!(e.to_string(), "a.wast:2:5: cannot parse the script: unexpected token");
    }
}
