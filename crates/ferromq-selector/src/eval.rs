//! Evaluation with SQL three-valued logic: `None` is NULL/unknown. A missing identifier is
//! NULL, and anything computed from a NULL is unknown except where the truth tables say
//! otherwise (`FALSE AND unknown` is FALSE, `TRUE OR unknown` is TRUE).

use crate::ast::{Arith, Compare, Expr};
use crate::PropertySource;

/// A value a selector sees. Integer properties of every width arrive as `Long`, floating
/// point ones as `Double`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Long(i64),
    Double(f64),
    String(String),
}

/// The truth of a boolean expression: `Some(true)`, `Some(false)` or unknown.
pub(crate) fn truth(expression: &Expr, source: &dyn PropertySource) -> Option<bool> {
    match expression {
        Expr::And(operands) => operands
            .iter()
            .try_fold(Some(true), |acc, operand| {
                // FALSE decides an AND at once; later operands need not be evaluated.
                let next = and3(acc, truth(operand, source));
                if next == Some(false) {
                    Err(Some(false))
                } else {
                    Ok(next)
                }
            })
            .unwrap_or_else(|decided| decided),
        Expr::Or(operands) => operands
            .iter()
            .try_fold(Some(false), |acc, operand| {
                let next = or3(acc, truth(operand, source));
                if next == Some(true) {
                    Err(Some(true))
                } else {
                    Ok(next)
                }
            })
            .unwrap_or_else(|decided| decided),
        Expr::Not(operand) => truth(operand, source).map(|value| !value),
        Expr::Compare(op, left, right) => {
            compare(*op, &value(left, source)?, &value(right, source)?)
        }
        Expr::Between {
            value: operand,
            low,
            high,
            negated,
        } => {
            let operand = value(operand, source)?;
            // BETWEEN is defined for numbers only; anything else is unknown, so that
            // NOT BETWEEN does not turn a string into TRUE.
            as_double(&operand)?;
            let above = compare(Compare::Ge, &operand, &value(low, source)?);
            let below = compare(Compare::Le, &operand, &value(high, source)?);
            and3(above, below).map(|inside| inside != *negated)
        }
        Expr::In {
            value: operand,
            list,
            negated,
        } => match value(operand, source)? {
            Value::String(text) => Some(list.contains(&text) != *negated),
            _ => None,
        },
        Expr::Like {
            value: operand,
            pattern,
            negated,
        } => match value(operand, source)? {
            Value::String(text) => Some(pattern.matches(&text) != *negated),
            _ => None,
        },
        Expr::IsNull {
            value: operand,
            negated,
        } => Some(value(operand, source).is_none() != *negated),
        other => match value(other, source)? {
            Value::Bool(b) => Some(b),
            _ => None,
        },
    }
}

/// SQL AND: FALSE wins over unknown.
fn and3(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    match (left, right) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// SQL OR: TRUE wins over unknown.
fn or3(left: Option<bool>, right: Option<bool>) -> Option<bool> {
    and3(left.map(|v| !v), right.map(|v| !v)).map(|v| !v)
}

fn value(expression: &Expr, source: &dyn PropertySource) -> Option<Value> {
    match expression {
        Expr::Literal(literal) => Some(literal.clone()),
        Expr::Identifier(name) => source.get(name),
        Expr::Negate(operand) => match value(operand, source)? {
            Value::Long(n) => Some(
                n.checked_neg()
                    .map_or(Value::Double(-(n as f64)), Value::Long),
            ),
            Value::Double(n) => Some(Value::Double(-n)),
            _ => None,
        },
        Expr::Arith(op, left, right) => arith(*op, value(left, source)?, value(right, source)?),
        boolean => truth(boolean, source).map(Value::Bool),
    }
}

fn arith(op: Arith, left: Value, right: Value) -> Option<Value> {
    match (left, right) {
        (Value::Long(a), Value::Long(b)) => {
            let exact = match op {
                Arith::Add => a.checked_add(b),
                Arith::Sub => a.checked_sub(b),
                Arith::Mul => a.checked_mul(b),
                Arith::Div if b == 0 => return None,
                Arith::Div => a.checked_div(b),
            };
            // On overflow, continue in floating point instead of wrapping to a wrong answer.
            Some(exact.map_or_else(
                || Value::Double(float_arith(op, a as f64, b as f64)),
                Value::Long,
            ))
        }
        (a, b) => {
            let (a, b) = (as_double(&a)?, as_double(&b)?);
            if op == Arith::Div && b == 0.0 {
                return None;
            }
            Some(Value::Double(float_arith(op, a, b)))
        }
    }
}

fn float_arith(op: Arith, a: f64, b: f64) -> f64 {
    match op {
        Arith::Add => a + b,
        Arith::Sub => a - b,
        Arith::Mul => a * b,
        Arith::Div => a / b,
    }
}

fn as_double(value: &Value) -> Option<f64> {
    match value {
        Value::Long(n) => Some(*n as f64),
        Value::Double(n) => Some(*n),
        _ => None,
    }
}

/// JMS: comparing values of different types is false, not an error; ordering applies to
/// numbers only.
fn compare(op: Compare, left: &Value, right: &Value) -> Option<bool> {
    use std::cmp::Ordering;
    let ordering = match (left, right) {
        (Value::Long(a), Value::Long(b)) => a.cmp(b),
        (Value::Long(_) | Value::Double(_), Value::Long(_) | Value::Double(_)) => {
            as_double(left)?.partial_cmp(&as_double(right)?)?
        }
        (Value::String(a), Value::String(b)) => return equality(op, a == b),
        (Value::Bool(a), Value::Bool(b)) => return equality(op, a == b),
        _ => return Some(false),
    };
    Some(match op {
        Compare::Eq => ordering == Ordering::Equal,
        Compare::Ne => ordering != Ordering::Equal,
        Compare::Lt => ordering == Ordering::Less,
        Compare::Le => ordering != Ordering::Greater,
        Compare::Gt => ordering == Ordering::Greater,
        Compare::Ge => ordering != Ordering::Less,
    })
}

fn equality(op: Compare, equal: bool) -> Option<bool> {
    match op {
        Compare::Eq => Some(equal),
        Compare::Ne => Some(!equal),
        _ => Some(false),
    }
}
