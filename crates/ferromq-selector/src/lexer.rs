//! Splits selector text into tokens, remembering each token's column for error messages.

use crate::eval::Value;
use crate::SelectorError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Identifier(String),
    Literal(Value),
    Keyword(Keyword),
    Symbol(&'static str),
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keyword {
    And,
    Or,
    Not,
    Between,
    Like,
    In,
    Is,
    Null,
    Escape,
}

/// A token and the 1-based column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Located {
    pub token: Token,
    pub column: usize,
}

pub(crate) fn error(column: usize, message: impl Into<String>) -> SelectorError {
    SelectorError::Syntax {
        column,
        message: message.into(),
    }
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Located>, SelectorError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (token, next) = if c == '\'' {
            string_literal(&chars, i)?
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            number(&chars, i)?
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            word(&chars, i)
        } else {
            symbol(&chars, i)?
        };
        tokens.push(Located { token, column });
        i = next;
    }
    tokens.push(Located {
        token: Token::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

fn string_literal(chars: &[char], start: usize) -> Result<(Token, usize), SelectorError> {
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(error(start + 1, "string literal is not closed with '")),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                value.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((Token::Literal(Value::String(value)), i + 1)),
            Some(c) => {
                value.push(*c);
                i += 1;
            }
        }
    }
}

fn number(chars: &[char], start: usize) -> Result<(Token, usize), SelectorError> {
    let column = start + 1;
    let mut i = start;
    if chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
        i += 2;
        let digits_start = i;
        while chars.get(i).is_some_and(char::is_ascii_hexdigit) {
            i += 1;
        }
        let digits: String = chars[digits_start..i].iter().collect();
        let value = i64::from_str_radix(&digits, 16)
            .map_err(|_| error(column, "invalid hexadecimal number"))?;
        return Ok((
            Token::Literal(Value::Long(value)),
            skip_long_suffix(chars, i),
        ));
    }
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    let mut approximate = false;
    if chars.get(i) == Some(&'.') {
        approximate = true;
        i += 1;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if chars.get(j).is_some_and(char::is_ascii_digit) {
            approximate = true;
            i = j;
            while chars.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
        }
    }
    let text: String = chars[start..i].iter().collect();
    if approximate || matches!(chars.get(i), Some('d' | 'D' | 'f' | 'F')) {
        let value: f64 = text
            .parse()
            .map_err(|_| error(column, format!("invalid number '{text}'")))?;
        let end = if matches!(chars.get(i), Some('d' | 'D' | 'f' | 'F')) {
            i + 1
        } else {
            i
        };
        return Ok((Token::Literal(Value::Double(value)), end));
    }
    // A leading zero means octal, as in Java and ActiveMQ.
    let parsed = if text.len() > 1 && text.starts_with('0') {
        i64::from_str_radix(&text[1..], 8)
    } else {
        text.parse::<i64>()
    };
    let token = match parsed {
        Ok(value) => Token::Literal(Value::Long(value)),
        // Too large for a long: keep it as an approximate number rather than refuse it.
        Err(_) => Token::Literal(Value::Double(
            text.parse()
                .map_err(|_| error(column, format!("invalid number '{text}'")))?,
        )),
    };
    Ok((token, skip_long_suffix(chars, i)))
}

fn skip_long_suffix(chars: &[char], i: usize) -> usize {
    if matches!(chars.get(i), Some('l' | 'L')) {
        i + 1
    } else {
        i
    }
}

fn word(chars: &[char], start: usize) -> (Token, usize) {
    let mut i = start;
    while chars
        .get(i)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
    {
        i += 1;
    }
    let text: String = chars[start..i].iter().collect();
    let token = match text.to_ascii_uppercase().as_str() {
        "AND" => Token::Keyword(Keyword::And),
        "OR" => Token::Keyword(Keyword::Or),
        "NOT" => Token::Keyword(Keyword::Not),
        "BETWEEN" => Token::Keyword(Keyword::Between),
        "LIKE" => Token::Keyword(Keyword::Like),
        "IN" => Token::Keyword(Keyword::In),
        "IS" => Token::Keyword(Keyword::Is),
        "NULL" => Token::Keyword(Keyword::Null),
        "ESCAPE" => Token::Keyword(Keyword::Escape),
        "TRUE" => Token::Literal(Value::Bool(true)),
        "FALSE" => Token::Literal(Value::Bool(false)),
        _ => Token::Identifier(text),
    };
    (token, i)
}

fn symbol(chars: &[char], start: usize) -> Result<(Token, usize), SelectorError> {
    let next = chars.get(start + 1).copied();
    let (symbol, width) = match (chars[start], next) {
        ('<', Some('>')) => ("<>", 2),
        ('!', Some('=')) => ("<>", 2),
        ('<', Some('=')) => ("<=", 2),
        ('>', Some('=')) => (">=", 2),
        ('=', Some('=')) => ("=", 2),
        ('<', _) => ("<", 1),
        ('>', _) => (">", 1),
        ('=', _) => ("=", 1),
        ('+', _) => ("+", 1),
        ('-', _) => ("-", 1),
        ('*', _) => ("*", 1),
        ('/', _) => ("/", 1),
        ('(', _) => ("(", 1),
        (')', _) => (")", 1),
        (',', _) => (",", 1),
        (other, _) => return Err(error(start + 1, format!("unexpected character '{other}'"))),
    };
    Ok((Token::Symbol(symbol), start + width))
}
