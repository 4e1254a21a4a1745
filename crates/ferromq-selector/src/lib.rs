//! JMS 1.1 message selectors: the SQL-92 subset consumers use to pick messages
//! (`JMSPriority > 5 AND color IN ('red', 'blue')`).
//!
//! [`Selector::parse`] checks the text once, at subscribe time, and reports errors with their
//! column; [`Selector::matches`] evaluates it against a [`PropertySource`] with SQL's
//! three-valued logic, where a missing property is NULL and only TRUE selects. Evaluation never
//! panics and costs time linear in the expression (LIKE included).
//!
//! No I/O and no knowledge of messages: the broker core implements [`PropertySource`].

mod ast;
mod eval;
mod lexer;
mod like;
mod parser;

use std::fmt;
use std::sync::Arc;

pub use eval::Value;

/// Longest selector accepted; longer ones are refused before parsing.
pub const MAX_SELECTOR_LEN: usize = 64 * 1024;
/// Deepest expression tree accepted (parentheses, NOT, signs and chains of binary operators
/// all count). Real selectors stay far below; the bound keeps parsing and evaluation, which
/// recurse, well inside a thread's stack.
pub const MAX_DEPTH: usize = 100;

/// Where identifiers get their values: JMS headers (`JMSPriority`, `JMSType`, …) and user
/// properties alike are asked for by name.
pub trait PropertySource {
    /// The value of `identifier`, or `None` if the message has no such header or property.
    fn get(&self, identifier: &str) -> Option<Value>;
}

/// A parsed selector, cheap to clone and share between consumers.
#[derive(Clone)]
pub struct Selector {
    text: Arc<str>,
    expression: Option<Arc<ast::Expr>>,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Selector").field(&self.text).finish()
    }
}

/// Why a selector was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    #[error("invalid selector at column {column}: {message}")]
    Syntax { column: usize, message: String },
    #[error("invalid selector: longer than {MAX_SELECTOR_LEN} bytes")]
    TooLong,
    #[error("invalid selector: nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

impl Selector {
    /// Parses and type-checks a selector. Blank text selects everything.
    ///
    /// # Errors
    /// Syntax errors, type errors the JMS specification makes invalid (`'a' + 1`, `x LIKE 5`,
    /// `1 AND 2`), and selectors over [`MAX_SELECTOR_LEN`] or [`MAX_DEPTH`].
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        if text.len() > MAX_SELECTOR_LEN {
            return Err(SelectorError::TooLong);
        }
        let expression = if text.trim().is_empty() {
            None
        } else {
            Some(Arc::new(parser::parse(text)?))
        };
        Ok(Selector {
            text: Arc::from(text),
            expression,
        })
    }

    /// Whether the selector is TRUE for `source` (FALSE and unknown both reject).
    pub fn matches(&self, source: &dyn PropertySource) -> bool {
        self.expression
            .as_ref()
            .is_none_or(|expression| eval::truth(expression, source) == Some(true))
    }

    /// The text it was parsed from.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests;
