//! SQL LIKE patterns, matched in O(text × pattern) at worst: the classic greedy walk that
//! remembers only the last `%`, so patterns like `%a%a%a%b` cannot blow up exponentially.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Char(char),
    AnyOne,
    AnyMany,
}

/// A compiled LIKE pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LikePattern {
    pieces: Vec<Piece>,
}

impl LikePattern {
    /// Compiles `pattern`; `escape` makes the following `%`, `_` or itself literal.
    ///
    /// # Errors
    /// An escape character at the end of the pattern, or before anything but `%`, `_` or
    /// itself.
    pub fn new(pattern: &str, escape: Option<char>) -> Result<LikePattern, String> {
        let mut pieces = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if Some(c) == escape {
                match chars.next() {
                    Some(next) if next == '%' || next == '_' || Some(next) == escape => {
                        pieces.push(Piece::Char(next))
                    }
                    Some(next) => {
                        return Err(format!("escape character before '{next}' in LIKE pattern"))
                    }
                    None => return Err("LIKE pattern ends with its escape character".to_owned()),
                }
                continue;
            }
            pieces.push(match c {
                '%' => Piece::AnyMany,
                '_' => Piece::AnyOne,
                other => Piece::Char(other),
            });
        }
        Ok(LikePattern { pieces })
    }

    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut t, mut p) = (0, 0);
        // Where to resume after the most recent `%`: (pattern index after it, text index).
        let mut resume: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.pieces.get(p) {
                Some(Piece::AnyMany) => {
                    p += 1;
                    resume = Some((p, t));
                }
                Some(Piece::AnyOne) => {
                    p += 1;
                    t += 1;
                }
                Some(Piece::Char(c)) if *c == text[t] => {
                    p += 1;
                    t += 1;
                }
                _ => match resume {
                    Some((after, tried)) => {
                        p = after;
                        t = tried + 1;
                        resume = Some((after, tried + 1));
                    }
                    None => return false,
                },
            }
        }
        self.pieces[p..]
            .iter()
            .all(|piece| *piece == Piece::AnyMany)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn like(pattern: &str, text: &str) -> bool {
        LikePattern::new(pattern, Some('\\')).unwrap().matches(text)
    }

    #[test]
    fn wildcards() {
        assert!(like("a%", "abc"));
        assert!(like("%c", "abc"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "abbc"));
        assert!(like("%", ""));
        assert!(!like("_", ""));
        assert!(like("a%b%c", "axxbyyc"));
        assert!(!like("a%b%c", "axxbyy"));
        assert!(like("12%3", "123"));
        assert!(like("l_se", "lose"));
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        assert!(like("\\_%", "_foo"));
        assert!(!like("\\_%", "bfoo"));
        assert!(like("100\\%", "100%"));
        assert!(LikePattern::new("a\\", Some('\\')).is_err());
        assert!(LikePattern::new("\\a", Some('\\')).is_err());
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let text = "a".repeat(20_000);
        assert!(!like("%a%a%a%a%a%a%a%a%b", &text));
    }
}
