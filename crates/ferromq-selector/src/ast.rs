//! The parsed form of a selector.

use crate::eval::Value;
use crate::like::LikePattern;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Literal(Value),
    Identifier(String),
    Negate(Box<Expr>),
    Arith(Arith, Box<Expr>, Box<Expr>),
    Compare(Compare, Box<Expr>, Box<Expr>),
    /// All operands; a chain `a AND b AND c` is one node, so long chains stay shallow.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    In {
        value: Box<Expr>,
        list: Vec<String>,
        negated: bool,
    },
    Like {
        value: Box<Expr>,
        pattern: LikePattern,
        negated: bool,
    },
    IsNull {
        value: Box<Expr>,
        negated: bool,
    },
}

/// What an expression is known to produce before any message is seen; identifiers could be
/// anything. Used to refuse selectors the JMS specification calls invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Boolean,
    Numeric,
    Text,
    Unknown,
}

impl Expr {
    pub fn kind(&self) -> Kind {
        match self {
            Expr::Literal(Value::Bool(_)) => Kind::Boolean,
            Expr::Literal(Value::Long(_) | Value::Double(_)) => Kind::Numeric,
            Expr::Literal(Value::String(_)) => Kind::Text,
            Expr::Identifier(_) => Kind::Unknown,
            Expr::Negate(_) | Expr::Arith(..) => Kind::Numeric,
            Expr::Compare(..)
            | Expr::And(..)
            | Expr::Or(..)
            | Expr::Not(_)
            | Expr::Between { .. }
            | Expr::In { .. }
            | Expr::Like { .. }
            | Expr::IsNull { .. } => Kind::Boolean,
        }
    }
}
