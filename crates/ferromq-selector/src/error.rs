//! The one error type of this crate: why a selector text was refused.
//!
//! Every variant that points into the text carries a 1-based `column`
//! counted in characters (not bytes), so the message can be shown to the
//! JMS client that sent the selector without further context. Evaluation
//! never fails, so nothing here describes a runtime condition.

/// Why [`Selector::parse`](crate::Selector::parse) refused a selector.
///
/// JMS clients see these as `InvalidSelectorException`; the `Display`
/// text is written to be forwarded to them verbatim.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The text is longer than [`MAX_SELECTOR_LEN`](crate::MAX_SELECTOR_LEN)
    /// bytes; refused before any parsing so huge inputs cost nothing.
    #[error("invalid selector: it is {len} bytes long, more than the limit of {limit} bytes")]
    TooLong {
        /// Length of the refused text in bytes.
        len: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// Parentheses, `NOT` or unary signs nest deeper than
    /// [`MAX_NESTING_DEPTH`](crate::MAX_NESTING_DEPTH).
    #[error("invalid selector at column {column}: nesting is deeper than the limit of {limit}")]
    TooDeep {
        /// Column of the token that went one level too deep.
        column: usize,
        /// The limit it exceeded.
        limit: usize,
    },
    /// The text is not a well-formed selector (bad token, missing operand,
    /// unbalanced parenthesis, literal out of range, ...).
    #[error("invalid selector at column {column}: {message}")]
    Syntax {
        /// Column where the problem was detected.
        column: usize,
        /// What was expected and what was found.
        message: String,
    },
    /// The text is well-formed, but an operand has a type the JMS
    /// specification does not allow there (`'a' + 1`, `x LIKE 5`,
    /// `1 AND 2`, `'a' < 'b'`).
    #[error("invalid selector at column {column}: {message}")]
    Type {
        /// Column where the offending operand starts.
        column: usize,
        /// Which operator rejected which kind of operand.
        message: String,
    },
}

impl SelectorError {
    /// The 1-based character column the error points at, if it points
    /// anywhere (a too-long selector is refused as a whole).
    pub fn column(&self) -> Option<usize> {
        match self {
            Self::TooLong { .. } => None,
            Self::TooDeep { column, .. }
            | Self::Syntax { column, .. }
            | Self::Type { column, .. } => Some(*column),
        }
    }

    pub(crate) fn syntax(column: usize, message: impl Into<String>) -> Self {
        Self::Syntax {
            column,
            message: message.into(),
        }
    }

    pub(crate) fn type_error(column: usize, message: impl Into<String>) -> Self {
        Self::Type {
            column,
            message: message.into(),
        }
    }
}
