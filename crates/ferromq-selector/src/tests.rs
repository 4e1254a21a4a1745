#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

struct Props(HashMap<&'static str, Value>);

impl PropertySource for Props {
    fn get(&self, identifier: &str) -> Option<Value> {
        self.0.get(identifier).cloned()
    }
}

fn props() -> Props {
    Props(HashMap::from([
        ("JMSPriority", Value::Long(7)),
        ("JMSType", Value::String("order".into())),
        ("color", Value::String("red".into())),
        ("size", Value::Long(10)),
        ("weight", Value::Double(2.5)),
        ("urgent", Value::Bool(true)),
        ("quiet", Value::Bool(false)),
        ("path", Value::String("a_b%c".into())),
        ("big", Value::Long(i64::MAX)),
    ]))
}

fn check(selector: &str) -> bool {
    Selector::parse(selector)
        .unwrap_or_else(|err| panic!("{selector}: {err}"))
        .matches(&props())
}

#[test]
fn comparisons_and_arithmetic() {
    let cases = [
        ("JMSPriority > 5", true),
        ("JMSPriority >= 7 AND JMSPriority <= 7", true),
        ("JMSPriority < 7", false),
        ("size = 10", true),
        ("size <> 10", false),
        ("size != 10", false),
        ("size = 10.0", true),
        ("weight > 2", true),
        ("weight * 2 = 5", true),
        ("size / 3 = 3", true),
        ("size / 4.0 = 2.5", true),
        ("size + 1 - 2 * 3 = 5", true),
        ("-size = -10", true),
        ("+size = 10", true),
        ("(size + 2) * 2 = 24", true),
        ("size / 0 = 1", false),
        ("big + 1 > 0", true),
        ("0x10 = 16", true),
        ("010 = 8", true),
        ("10L = size", true),
        ("1e1 = size", true),
        (".5 < 1", true),
    ];
    for (selector, expected) in cases {
        assert_eq!(check(selector), expected, "{selector}");
    }
}

#[test]
fn strings_booleans_and_keywords() {
    let cases = [
        ("color = 'red'", true),
        ("color <> 'red'", false),
        ("JMSType = 'order' AND color = 'red'", true),
        ("color = 'it''s'", false),
        ("urgent", true),
        ("urgent = TRUE", true),
        ("quiet = false", true),
        ("NOT quiet", true),
        ("color = 'red' and size = 10", true),
        ("color = 'red' AnD NoT (size = 11)", true),
        ("color = 5", false),
        ("NOT (color = 5)", true),
        ("'a' = 1", false),
        ("NOT ('a' = 1)", true),
        ("color NOT BETWEEN 1 AND 2", false),
    ];
    for (selector, expected) in cases {
        assert_eq!(check(selector), expected, "{selector}");
    }
}

#[test]
fn predicates() {
    let cases = [
        ("size BETWEEN 5 AND 10", true),
        ("size BETWEEN 11 AND 20", false),
        ("size NOT BETWEEN 11 AND 20", true),
        ("color IN ('red', 'blue')", true),
        ("color NOT IN ('red', 'blue')", false),
        ("color IN ('green')", false),
        ("color LIKE 'r%'", true),
        ("color LIKE '_e_'", true),
        ("color NOT LIKE 'r%'", false),
        ("path LIKE 'a\\_b\\%c' ESCAPE '\\'", true),
        ("path LIKE 'a!_b%' ESCAPE '!'", true),
        ("missing IS NULL", true),
        ("color IS NOT NULL", true),
        ("color IS NULL", false),
    ];
    for (selector, expected) in cases {
        assert_eq!(check(selector), expected, "{selector}");
    }
}

#[test]
fn null_follows_three_valued_logic() {
    let cases = [
        ("missing = 1", false),
        ("NOT (missing = 1)", false),
        ("missing = 1 OR size = 10", true),
        ("missing = 1 AND size = 10", false),
        ("NOT (missing = 1 AND size = 11)", true),
        ("NOT (missing = 1 OR size = 11)", false),
        ("missing BETWEEN 1 AND 2", false),
        ("NOT (missing BETWEEN 1 AND 2)", false),
        ("missing IN ('a')", false),
        ("missing NOT IN ('a')", false),
        ("missing LIKE 'a%'", false),
        ("missing NOT LIKE 'a%'", false),
        ("missing + 1 > 0", false),
        ("NOT missing", false),
    ];
    for (selector, expected) in cases {
        assert_eq!(check(selector), expected, "{selector}");
    }
}

#[test]
fn blank_selects_everything() {
    assert!(Selector::parse("").unwrap().matches(&props()));
    assert!(Selector::parse("   ").unwrap().matches(&props()));
}

#[test]
fn invalid_selectors_are_refused_with_a_position() {
    let cases = [
        ("a =", "column 4"),
        ("a = 'x", "not closed"),
        ("(a = 1", "')'"),
        ("a LIKE", "pattern"),
        ("1 +", "value"),
        ("a # 1", "'#'"),
        ("'a' + 1", "numbers"),
        ("a LIKE 5", "pattern"),
        ("1 AND 2", "condition"),
        ("5", "condition"),
        ("'a' > 'b'", "= and <>"),
        ("a IN (1, 2)", "string literal"),
        ("a NOT 5", "BETWEEN, IN or LIKE"),
        ("a IS 5", "NULL"),
        ("a LIKE 'x' ESCAPE 'ab'", "one character"),
        ("a = 1 b = 2", "end of the selector"),
    ];
    for (selector, fragment) in cases {
        let err = Selector::parse(selector).unwrap_err().to_string();
        assert!(err.starts_with("invalid selector"), "{selector}: {err}");
        assert!(
            err.contains(fragment),
            "{selector}: {err} should mention {fragment}"
        );
    }
}

#[test]
fn limits_protect_the_parser() {
    let deep = format!("{}a = 1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(Selector::parse(&deep).unwrap_err(), SelectorError::TooDeep);
    let nots = format!("{}a", "NOT ".repeat(10_000));
    assert_eq!(Selector::parse(&nots).unwrap_err(), SelectorError::TooDeep);
    // Long AND/OR lists are flat, so machine-generated selectors of any length are fine.
    let ids: Vec<String> = (0..5_000).map(|i| format!("id = {i}")).collect();
    let list = Selector::parse(&ids.join(" OR ")).unwrap();
    let source = Props(HashMap::from([("id", Value::Long(4_999))]));
    assert!(list.matches(&source));
    let sum = format!("{} = 1", vec!["a"; 5_000].join(" + "));
    assert_eq!(Selector::parse(&sum).unwrap_err(), SelectorError::TooDeep);
    let fine = vec!["a = 1"; 50].join(" OR ");
    assert!(Selector::parse(&fine).is_ok());
    let long = format!("a = '{}'", "x".repeat(MAX_SELECTOR_LEN));
    assert_eq!(Selector::parse(&long).unwrap_err(), SelectorError::TooLong);
}

/// Generates valid expressions together with their expected truth value, so the parser and
/// evaluator are checked against an independent model.
fn comparison() -> impl Strategy<Value = (String, Option<bool>)> {
    prop_oneof![
        (-20i64..20).prop_map(|n| (format!("size > {n}"), Some(10 > n))),
        (-20i64..20).prop_map(|n| (format!("size = {n}"), Some(10 == n))),
        Just(("missing = 3".to_owned(), None)),
        prop_oneof![Just("red"), Just("blue")]
            .prop_map(|c| (format!("color = '{c}'"), Some(c == "red"))),
    ]
}

fn expression() -> impl Strategy<Value = (String, Option<bool>)> {
    comparison().prop_recursive(4, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|((a, x), (b, y))| {
                let value = match (x, y) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                };
                (format!("({a}) AND ({b})"), value)
            }),
            (inner.clone(), inner.clone()).prop_map(|((a, x), (b, y))| {
                let value = match (x, y) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                };
                (format!("({a}) OR ({b})"), value)
            }),
            inner.prop_map(|(a, x)| (format!("NOT ({a})"), x.map(|v| !v))),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        if let Ok(selector) = Selector::parse(&text) {
            let _ = selector.matches(&props());
        }
    }

    #[test]
    fn generated_expressions_match_the_model((text, expected) in expression()) {
        let selector = Selector::parse(&text).unwrap();
        prop_assert_eq!(selector.matches(&props()), expected == Some(true), "{}", text);
    }

    #[test]
    fn like_agrees_with_a_simple_model(pattern in "[ab%_]{0,8}", text in "[ab]{0,8}") {
        let compiled = like::LikePattern::new(&pattern, None).unwrap();
        prop_assert_eq!(compiled.matches(&text), naive_like(pattern.as_bytes(), text.as_bytes()));
    }
}

fn naive_like(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'%', rest)) => (0..=text.len()).any(|skip| naive_like(rest, &text[skip..])),
        Some((b'_', rest)) => !text.is_empty() && naive_like(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && naive_like(rest, &text[1..]),
    }
}
