//! A recursive-descent parser over the token list, one function per precedence level:
//! OR < AND < NOT < comparison and predicates < + - < * / < unary sign < primary.
//! Depth is counted so hostile nesting is an error, never a stack overflow.

use crate::ast::{Arith, Compare, Expr, Kind};
use crate::eval::Value;
use crate::lexer::{error, tokenize, Keyword, Located, Token};
use crate::like::LikePattern;
use crate::{SelectorError, MAX_DEPTH};

pub(crate) fn parse(text: &str) -> Result<Expr, SelectorError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        position: 0,
        depth: 0,
    };
    let expression = parser.or()?;
    if parser.peek() != &Token::End {
        return Err(parser.unexpected("an operator or the end of the selector"));
    }
    require_boolean(&expression, 1, "the selector")?;
    Ok(expression)
}

struct Parser {
    tokens: Vec<Located>,
    position: usize,
    depth: usize,
}

fn require_boolean(expression: &Expr, column: usize, what: &str) -> Result<(), SelectorError> {
    match expression.kind() {
        Kind::Boolean | Kind::Unknown => Ok(()),
        _ => Err(error(
            column,
            format!("{what} must be a condition (true or false), not a value"),
        )),
    }
}

fn require_numeric(expression: &Expr, column: usize) -> Result<(), SelectorError> {
    match expression.kind() {
        Kind::Numeric | Kind::Unknown => Ok(()),
        _ => Err(error(column, "arithmetic needs numbers")),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens
            .get(self.position)
            .map_or(&Token::End, |located| &located.token)
    }

    fn column(&self) -> usize {
        self.tokens
            .get(self.position)
            .map_or(0, |located| located.column)
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.position < self.tokens.len() {
            self.position += 1;
        }
        token
    }

    fn eat_keyword(&mut self, keyword: Keyword) -> bool {
        if self.peek() == &Token::Keyword(keyword) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn eat_symbol(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Token::Symbol(s) if *s == symbol) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &str) -> SelectorError {
        let found = match self.peek() {
            Token::End => "the end of the selector".to_owned(),
            Token::Identifier(name) => format!("'{name}'"),
            Token::Literal(Value::String(text)) => format!("'{text}'"),
            Token::Literal(Value::Long(n)) => n.to_string(),
            Token::Literal(Value::Double(n)) => n.to_string(),
            Token::Literal(Value::Bool(b)) => b.to_string().to_ascii_uppercase(),
            Token::Keyword(keyword) => format!("{keyword:?}").to_ascii_uppercase(),
            Token::Symbol(symbol) => format!("'{symbol}'"),
        };
        error(self.column(), format!("expected {expected}, found {found}"))
    }

    fn descend(&mut self) -> Result<(), SelectorError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SelectorError::TooDeep);
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, SelectorError> {
        self.chain(Self::and, |p| {
            p.eat_keyword(Keyword::Or).then_some(Binary::Or)
        })
    }

    fn and(&mut self) -> Result<Expr, SelectorError> {
        self.chain(Self::not, |p| {
            p.eat_keyword(Keyword::And).then_some(Binary::And)
        })
    }

    fn not(&mut self) -> Result<Expr, SelectorError> {
        let column = self.column();
        if self.eat_keyword(Keyword::Not) {
            self.descend()?;
            let operand = self.not()?;
            self.depth -= 1;
            require_boolean(&operand, column, "the operand of NOT")?;
            return Ok(Expr::Not(Box::new(operand)));
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Expr, SelectorError> {
        let left = self.additive()?;
        let column = self.column();
        let compare = match self.peek() {
            Token::Symbol("=") => Some(Compare::Eq),
            Token::Symbol("<>") => Some(Compare::Ne),
            Token::Symbol("<") => Some(Compare::Lt),
            Token::Symbol("<=") => Some(Compare::Le),
            Token::Symbol(">") => Some(Compare::Gt),
            Token::Symbol(">=") => Some(Compare::Ge),
            _ => None,
        };
        if let Some(op) = compare {
            self.advance();
            let right = self.additive()?;
            check_comparison(op, &left, &right, column)?;
            return Ok(Expr::Compare(op, Box::new(left), Box::new(right)));
        }
        if self.eat_keyword(Keyword::Is) {
            let negated = self.eat_keyword(Keyword::Not);
            if !self.eat_keyword(Keyword::Null) {
                return Err(self.unexpected("NULL after IS"));
            }
            return Ok(Expr::IsNull {
                value: Box::new(left),
                negated,
            });
        }
        let negated = self.eat_keyword(Keyword::Not);
        if self.eat_keyword(Keyword::Between) {
            let low = self.additive()?;
            if !self.eat_keyword(Keyword::And) {
                return Err(self.unexpected("AND in BETWEEN"));
            }
            let high = self.additive()?;
            for operand in [&left, &low, &high] {
                require_numeric(operand, column)?;
            }
            return Ok(Expr::Between {
                value: Box::new(left),
                low: Box::new(low),
                high: Box::new(high),
                negated,
            });
        }
        if self.eat_keyword(Keyword::In) {
            require_text(&left, column, "IN")?;
            return self.in_list(left, negated);
        }
        if self.eat_keyword(Keyword::Like) {
            require_text(&left, column, "LIKE")?;
            return self.like(left, negated);
        }
        if negated {
            return Err(self.unexpected("BETWEEN, IN or LIKE after NOT"));
        }
        Ok(left)
    }

    fn in_list(&mut self, value: Expr, negated: bool) -> Result<Expr, SelectorError> {
        if !self.eat_symbol("(") {
            return Err(self.unexpected("'(' after IN"));
        }
        let mut list = Vec::new();
        loop {
            match self.advance() {
                Token::Literal(Value::String(text)) => list.push(text),
                _ => {
                    self.position -= 1;
                    return Err(self.unexpected("a string literal in the IN list"));
                }
            }
            if self.eat_symbol(")") {
                return Ok(Expr::In {
                    value: Box::new(value),
                    list,
                    negated,
                });
            }
            if !self.eat_symbol(",") {
                return Err(self.unexpected("',' or ')' in the IN list"));
            }
        }
    }

    fn like(&mut self, value: Expr, negated: bool) -> Result<Expr, SelectorError> {
        let column = self.column();
        let Token::Literal(Value::String(pattern)) = self.advance() else {
            self.position -= 1;
            return Err(self.unexpected("a string pattern after LIKE"));
        };
        let mut escape = None;
        if self.eat_keyword(Keyword::Escape) {
            let escape_column = self.column();
            match self.advance() {
                Token::Literal(Value::String(text)) if text.chars().count() == 1 => {
                    escape = text.chars().next()
                }
                _ => {
                    return Err(error(
                        escape_column,
                        "ESCAPE needs a string of exactly one character",
                    ))
                }
            }
        }
        let pattern =
            LikePattern::new(&pattern, escape).map_err(|message| error(column, message))?;
        Ok(Expr::Like {
            value: Box::new(value),
            pattern,
            negated,
        })
    }

    fn additive(&mut self) -> Result<Expr, SelectorError> {
        self.chain(Self::multiplicative, |p| {
            if p.eat_symbol("+") {
                Some(Binary::Arith(Arith::Add))
            } else if p.eat_symbol("-") {
                Some(Binary::Arith(Arith::Sub))
            } else {
                None
            }
        })
    }

    fn multiplicative(&mut self) -> Result<Expr, SelectorError> {
        self.chain(Self::unary, |p| {
            if p.eat_symbol("*") {
                Some(Binary::Arith(Arith::Mul))
            } else if p.eat_symbol("/") {
                Some(Binary::Arith(Arith::Div))
            } else {
                None
            }
        })
    }

    /// A left-associative chain `operand (op operand)*`. AND and OR chains become one n-ary
    /// node; every extra arithmetic operand deepens the tree by one level, so a long sum counts
    /// against [`MAX_DEPTH`] like nesting does.
    fn chain(
        &mut self,
        operand: fn(&mut Parser) -> Result<Expr, SelectorError>,
        operator: fn(&mut Parser) -> Option<Binary>,
    ) -> Result<Expr, SelectorError> {
        let mut left = operand(self)?;
        let outer_depth = self.depth;
        loop {
            let column = self.column();
            let Some(op) = operator(self) else { break };
            if matches!(op, Binary::Arith(_)) {
                self.descend()?;
            }
            let right = operand(self)?;
            left = combine(op, left, right, column)?;
        }
        self.depth = outer_depth;
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SelectorError> {
        let column = self.column();
        if self.eat_symbol("-") {
            self.descend()?;
            let operand = self.unary()?;
            self.depth -= 1;
            require_numeric(&operand, column)?;
            return Ok(match operand {
                Expr::Literal(Value::Long(n)) => Expr::Literal(
                    n.checked_neg()
                        .map_or(Value::Double(-(n as f64)), Value::Long),
                ),
                Expr::Literal(Value::Double(n)) => Expr::Literal(Value::Double(-n)),
                other => Expr::Negate(Box::new(other)),
            });
        }
        if self.eat_symbol("+") {
            self.descend()?;
            let operand = self.unary()?;
            self.depth -= 1;
            require_numeric(&operand, column)?;
            return Ok(operand);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SelectorError> {
        match self.advance() {
            Token::Literal(value) => Ok(Expr::Literal(value)),
            Token::Identifier(name) => Ok(Expr::Identifier(name)),
            Token::Symbol("(") => {
                self.descend()?;
                let inner = self.or()?;
                self.depth -= 1;
                if !self.eat_symbol(")") {
                    return Err(self.unexpected("')'"));
                }
                Ok(inner)
            }
            _ => {
                self.position = self.position.saturating_sub(1);
                Err(self.unexpected("a value"))
            }
        }
    }
}

/// Operators of the left-associative chains.
#[derive(Debug, Clone, Copy)]
enum Binary {
    Or,
    And,
    Arith(Arith),
}

fn combine(op: Binary, left: Expr, right: Expr, column: usize) -> Result<Expr, SelectorError> {
    match op {
        Binary::Or | Binary::And => {
            let name = if matches!(op, Binary::Or) {
                "OR"
            } else {
                "AND"
            };
            require_boolean(&left, column, &format!("the left side of {name}"))?;
            require_boolean(&right, column, &format!("the right side of {name}"))?;
            Ok(match (op, left) {
                (Binary::Or, Expr::Or(mut operands)) | (Binary::And, Expr::And(mut operands)) => {
                    operands.push(right);
                    if matches!(op, Binary::Or) {
                        Expr::Or(operands)
                    } else {
                        Expr::And(operands)
                    }
                }
                (Binary::Or, left) => Expr::Or(vec![left, right]),
                (_, left) => Expr::And(vec![left, right]),
            })
        }
        Binary::Arith(arith) => {
            require_numeric(&left, column)?;
            require_numeric(&right, column)?;
            Ok(Expr::Arith(arith, Box::new(left), Box::new(right)))
        }
    }
}

fn require_text(expression: &Expr, column: usize, operator: &str) -> Result<(), SelectorError> {
    match expression {
        Expr::Identifier(_) => Ok(()),
        _ => Err(error(
            column,
            format!("{operator} needs an identifier on its left"),
        )),
    }
}

fn check_comparison(
    op: Compare,
    left: &Expr,
    right: &Expr,
    column: usize,
) -> Result<(), SelectorError> {
    // Values of different types compare as false (JMS 1.1 §3.8.1.2), so only the operators
    // that do not exist for strings and booleans are refused here.
    let ordering = !matches!(op, Compare::Eq | Compare::Ne);
    let unordered = |kind: Kind| matches!(kind, Kind::Text | Kind::Boolean);
    if ordering && (unordered(left.kind()) || unordered(right.kind())) {
        return Err(error(
            column,
            "strings and booleans can only be compared with = and <>",
        ));
    }
    Ok(())
}
