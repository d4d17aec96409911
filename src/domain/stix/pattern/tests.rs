//! The parser's tests: the grammar token for token, the reference validator's verdicts, the
//! limits, and the stack on hostile input.

use super::parser::number_above;
use super::*;

fn ok(text: &str) -> Pattern {
    match parse(text, &PatternLimits::default()) {
        Ok(p) => p,
        Err(e) => panic!("{text:?} was refused: {e}"),
    }
}

fn err(text: &str) -> PatternError {
    match parse(text, &PatternLimits::default()) {
        Ok(p) => panic!("{text:?} was accepted as {p:?}"),
        Err(e) => e,
    }
}

fn only(p: &Pattern) -> &Comparison {
    let all: Vec<_> = p.comparisons().collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all[0]
}

fn value(text: &str) -> Literal {
    only(&ok(text)).value.clone().unwrap()
}

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

fn big(max_depth: usize, max_comparisons: usize) -> PatternLimits {
    PatternLimits {
        max_len: usize::MAX,
        max_depth,
        max_comparisons,
        ..PatternLimits::default()
    }
}

/// Writing a parsed pattern back gives a pattern that parses to the same tree.
fn assert_round_trip(p: &Pattern, limits: &PatternLimits) {
    let text = p.to_string();
    let again = parse(&text, limits).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    assert_eq!(&again, p, "{text}");
    assert_eq!(again.to_string(), text);
}

fn key(k: &str) -> PathStep {
    PathStep::Key(k.to_owned())
}

fn s(v: &str) -> Literal {
    Literal::String(v.to_owned())
}

fn n(v: &str) -> Number {
    Number(v.to_owned())
}

// --- the blocklist use -------------------------------------------------------------------

#[test]
fn comparisons_expose_type_path_operator_and_value() {
    let p = ok("[ipv4-addr:value = '198.51.100.7']");
    let c = only(&p);
    assert_eq!(c.object_type, "ipv4-addr");
    assert_eq!(c.path, vec![key("value")]);
    assert_eq!(c.property_path(), "value");
    assert_eq!(c.operator, Operator::Eq);
    assert_eq!(c.operator.to_string(), "=");
    assert!(!c.negated);
    assert_eq!(c.value, Some(s("198.51.100.7")));
    assert_eq!(
        c.value.as_ref().and_then(Literal::as_str),
        Some("198.51.100.7")
    );
    assert_eq!(c.offset, 1);
    assert_eq!(p.observation_count(), 1);
    assert_eq!(p.comparison_count(), 1);
}

#[test]
fn comparisons_come_in_pattern_order_across_observations() {
    let p = ok(
        "([a:v = 1] OR [b:v = 2 AND (c:v = 3 OR d:v = 4)]) FOLLOWEDBY [e:v = 5] \
                WITHIN 10 SECONDS AND [f:v = 6]",
    );
    let types: Vec<_> = p.comparisons().map(|c| c.object_type.as_str()).collect();
    assert_eq!(types, ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(p.observation_count(), 4);
    assert_eq!(p.comparison_count(), 6);
}

// --- observation expressions -------------------------------------------------------------

#[test]
fn observation_operators_bind_and_over_or_over_followedby() {
    let p = ok("[a:v=1] AND [b:v=2] OR [c:v=3] FOLLOWEDBY [d:v=4] AND [e:v=5]");
    let ObservationKind::FollowedBy(steps) = &p.root().kind else {
        panic!("{p:?}")
    };
    assert_eq!(steps.len(), 2);
    let ObservationKind::Or(alternatives) = &steps[0].kind else {
        panic!("{p:?}")
    };
    assert!(matches!(&alternatives[0].kind, ObservationKind::And(v) if v.len() == 2));
    assert!(matches!(
        &alternatives[1].kind,
        ObservationKind::Observation(_)
    ));
    assert!(matches!(&steps[1].kind, ObservationKind::And(v) if v.len() == 2));
    assert_round_trip(&p, &PatternLimits::default());
}

#[test]
fn chains_are_flat_and_parentheses_group() {
    let p = ok("[a:v=1] AND [b:v=2] AND [c:v=3]");
    assert!(matches!(&p.root().kind, ObservationKind::And(v) if v.len() == 3));

    let p = ok("([a:v=1] OR [b:v=2]) AND [c:v=3]");
    let ObservationKind::And(v) = &p.root().kind else {
        panic!("{p:?}")
    };
    assert!(matches!(&v[0].kind, ObservationKind::Or(o) if o.len() == 2));
    assert_eq!(p.to_string(), "([a:v = 1] OR [b:v = 2]) AND [c:v = 3]");
    assert_round_trip(&p, &PatternLimits::default());

    // Parentheses without qualifiers leave no node.
    assert_eq!(ok("(( [a:v=1] ))"), ok("[a:v=1]"));
    assert_ne!(ok("[a:v=1]"), ok("[a:v=2]"));
}

#[test]
fn qualifiers() {
    let p = ok("[a:v=1] WITHIN 5 SECONDS");
    assert_eq!(p.root().qualifiers, vec![Qualifier::Within(n("5"))]);
    let p = ok("[a:v=1] WITHIN 2.5 SECONDS");
    assert_eq!(p.root().qualifiers, vec![Qualifier::Within(n("2.5"))]);
    let p = ok("[a:v=1] REPEATS 9 TIMES");
    assert_eq!(p.root().qualifiers, vec![Qualifier::Repeats(n("9"))]);
    let Qualifier::Repeats(times) = &p.root().qualifiers[0] else {
        panic!()
    };
    assert_eq!(times.as_i64(), Some(9));
    let p = ok("[a:v=1] START t'2016-06-01T01:30:00.123Z' STOP t'2016-06-01T02:20:00Z'");
    assert_eq!(
        p.root().qualifiers,
        vec![Qualifier::StartStop {
            start: "2016-06-01T01:30:00.123Z".to_owned(),
            stop: "2016-06-01T02:20:00Z".to_owned(),
        }]
    );
    // All three kinds on one observation, in any order.
    let p = ok("[a:v=1] REPEATS 5 TIMES WITHIN 1800 SECONDS \
                START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'");
    assert_eq!(p.root().qualifiers.len(), 3);
    assert_round_trip(&p, &PatternLimits::default());

    // A qualified group keeps its own qualifiers apart from its members'.
    let p = ok("([a:v=1] REPEATS 2 TIMES) REPEATS 3 TIMES");
    let ObservationKind::Group(inner) = &p.root().kind else {
        panic!("{p:?}")
    };
    assert_eq!(inner.qualifiers, vec![Qualifier::Repeats(n("2"))]);
    assert_eq!(p.root().qualifiers, vec![Qualifier::Repeats(n("3"))]);
    assert_round_trip(&p, &PatternLimits::default());

    // A qualifier binds to the observation before it, not to the whole chain.
    let p = ok("[a:v=1] AND [b:v=2] WITHIN 5 SECONDS");
    let ObservationKind::And(v) = &p.root().kind else {
        panic!("{p:?}")
    };
    assert!(v[0].qualifiers.is_empty());
    assert_eq!(v[1].qualifiers.len(), 1);
}

#[test]
fn a_qualifier_type_appears_once_directly_on_an_observation() {
    let e = err("[a:v=1] WITHIN 5 SECONDS WITHIN 6 SECONDS");
    assert_eq!(e.offset, 25);
    assert!(e.message.contains("second WITHIN"), "{e}");
    err("[a:v=1] REPEATS 2 TIMES WITHIN 5 SECONDS REPEATS 3 TIMES");
    err(
        "[a:v=1] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z' \
         START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
    );
    ok("([a:v=1]) WITHIN 5 SECONDS WITHIN 6 SECONDS");
    ok("([a:v=1] WITHIN 5 SECONDS) WITHIN 6 SECONDS");
}

#[test]
fn qualifier_operands_follow_the_grammar() {
    ok("[a:v=1] WITHIN .5 SECONDS");
    ok("[a:v=1] WITHIN +5 SECONDS");
    ok("[a:v=1] REPEATS 0 TIMES");
    assert!(
        err("[a:v=1] WITHIN -5 SECONDS")
            .message
            .contains("non-negative")
    );
    err("[a:v=1] WITHIN 5 MINUTES");
    err("[a:v=1] REPEATS 2.5 TIMES");
    err("[a:v=1] REPEATS -1 TIMES");
    err("[a:v=1] START '2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'");
    err("[a:v=1] START t'2016-06-01T01:30:00Z'");
    err("[a:v=1] WITHIN 5");
}

#[test]
fn repeats_beyond_the_limit_is_refused() {
    ok("[a:v=1] REPEATS 10000 TIMES");
    ok("[a:v=1] REPEATS +10000 TIMES");
    let e = err("[a:v=1] REPEATS 99999999999999999999 TIMES");
    assert_eq!(e.offset, 16);
    assert_eq!(
        e.message,
        "REPEATS 99999999999999999999 TIMES is over the limit of 10000 repetitions"
    );
    err("[a:v=1] REPEATS 10001 TIMES");
    err("[a:v=1] REPEATS 4294967296 TIMES");
    // On a group too, and whatever the policy says within u32.
    err("([a:v=1]) REPEATS 10001 TIMES");
    let limits = PatternLimits {
        max_repeats: u32::MAX,
        ..PatternLimits::default()
    };
    assert!(parse("[a:v=1] REPEATS 4294967295 TIMES", &limits).is_ok());
    assert!(parse("[a:v=1] REPEATS 4294967296 TIMES", &limits).is_err());
}

#[test]
fn within_beyond_the_limit_is_refused() {
    ok("[a:v=1] WITHIN 31536000 SECONDS");
    ok("[a:v=1] WITHIN 31536000.000 SECONDS");
    ok("[a:v=1] WITHIN 0.5 SECONDS");
    let e = err("[a:v=1] WITHIN 18446744073709551616 SECONDS");
    assert_eq!(e.offset, 15);
    assert_eq!(
        e.message,
        "WITHIN 18446744073709551616 SECONDS is over the limit of 31536000 seconds"
    );
    // Decimals are compared on their digits, not rounded through a float.
    err("[a:v=1] WITHIN 31536000.0000000000000001 SECONDS");
    err("[a:v=1] WITHIN 31536001 SECONDS");
    err(&format!("[a:v=1] WITHIN {}.5 SECONDS", "9".repeat(400)));
    err("([a:v=1] AND [b:v=2]) WITHIN 99999999 SECONDS");
    assert!(number_above("0000000000000000031536001", YEAR_SECS));
    assert!(!number_above("0000000000000000031536000", YEAR_SECS));
    assert!(number_above(".5", 0));
    assert!(!number_above("0", 0));
}

#[test]
fn matches_operands_are_checked_as_regexes() {
    ok("[file:name MATCHES '^Final Report.+\\\\.exe$']");
    let e = err("[file:name MATCHES '(((']");
    assert_eq!(e.offset, 19);
    assert!(
        e.message
            .starts_with("MATCHES '(((': invalid regular expression at byte 2"),
        "{e}"
    );
    let e = err("[file:name MATCHES '^(a+)+$']");
    assert!(e.message.contains("exponential"), "{e}");
    err("[file:name NOT MATCHES '(a)\\\\1']");
    // Only MATCHES: LIKE and equality take any text.
    ok("[file:name LIKE '(((']");
    ok("[file:name = '(a+)+']");
    // The compiled-size budget is for the whole pattern.
    let one = "[file:name MATCHES '\\\\w{20}']";
    ok(one);
    let many = vec![one; 64].join(" OR ");
    assert!(err(&many).message.contains("compiles to more than"));
}

// --- comparison expressions --------------------------------------------------------------

#[test]
fn comparison_and_binds_tighter_than_or_and_parentheses_group() {
    let p = ok("[a:v=1 OR b:v=2 AND c:v=3]");
    let ObservationKind::Observation(ComparisonExpr::Or(v)) = &p.root().kind else {
        panic!("{p:?}")
    };
    assert!(matches!(&v[1], ComparisonExpr::And(a) if a.len() == 2));

    let p = ok("[(a:v=1 OR b:v=2) AND c:v=3]");
    let ObservationKind::Observation(ComparisonExpr::And(v)) = &p.root().kind else {
        panic!("{p:?}")
    };
    assert!(matches!(&v[0], ComparisonExpr::Or(o) if o.len() == 2));
    assert_eq!(p.to_string(), "[(a:v = 1 OR b:v = 2) AND c:v = 3]");
    assert_round_trip(&p, &PatternLimits::default());
}

#[test]
fn object_paths() {
    let c = only(&ok("[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']")).clone();
    assert_eq!(c.path, vec![key("hashes"), key("SHA-256")]);
    assert_eq!(c.property_path(), "hashes.'SHA-256'");

    let c = only(&ok(
        "[email-message:body_multipart[*].body_raw_ref.name = 'x']",
    ))
    .clone();
    assert_eq!(
        c.path,
        vec![
            key("body_multipart"),
            PathStep::AnyIndex,
            key("body_raw_ref"),
            key("name")
        ]
    );
    assert_eq!(c.property_path(), "body_multipart[*].body_raw_ref.name");

    let c = only(&ok("[network-traffic:extensions[0] = 'x']")).clone();
    assert_eq!(c.path, vec![key("extensions"), PathStep::Index(n("0"))]);
    let c = only(&ok("[x:list[-1] = 'x']")).clone();
    assert_eq!(c.path, vec![key("list"), PathStep::Index(n("-1"))]);

    let c = only(&ok("[x-custom-type:x_prop = 1]")).clone();
    assert_eq!(c.object_type, "x-custom-type");
    assert_eq!(c.path, vec![key("x_prop")]);

    // Quoted first component, quotes and backslashes inside a quoted name.
    let c = only(&ok(r"[x:'first key'.'it\'s\\' = 1]")).clone();
    assert_eq!(c.path, vec![key("first key"), key(r"it's\")]);
    assert_eq!(c.property_path(), r"'first key'.'it\'s\\'");
    // A keyword as a property name must be quoted.
    let c = only(&ok("[x:'IN' = 1]")).clone();
    assert_eq!(c.property_path(), "'IN'");

    // Blanks between path tokens are allowed by the grammar.
    ok("[file : hashes . MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']");
}

#[test]
fn bad_object_paths() {
    let e = err("[file.size = 1280]");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (5, "expected ':' after the object type, found '.'")
    );
    let e = err("[x:foo-bar = 1]");
    assert!(e.message.contains("quote it"), "{e}");
    err("[x:a.foo-bar = 1]");
    err("[x:a.1 = 1]");
    err("[x:a[] = 1]");
    err("[x:a[1.5] = 1]");
    err("[x:a[x] = 1]");
    err("[x: = 1]");
    err("[:a = 1]");
    err("['x':a = 1]");
    err("[x:AND = 1]");
    err("[IN:a = 1]");
    err("[x:LAST = 1]");
    err("[x:true = 1]");
    err("[x:a. = 1]");
}

#[test]
fn every_operator_and_not() {
    let cases = [
        ("=", Operator::Eq, "1"),
        ("==", Operator::Eq, "1"),
        ("!=", Operator::Ne, "1"),
        ("<>", Operator::Ne, "1"),
        ("<", Operator::Lt, "1"),
        ("<=", Operator::Le, "1"),
        (">", Operator::Gt, "1"),
        (">=", Operator::Ge, "1"),
        ("IN", Operator::In, "(1, 2)"),
        ("LIKE", Operator::Like, "'a%'"),
        ("MATCHES", Operator::Matches, "'^a.*$'"),
        ("ISSUBSET", Operator::IsSubset, "'10.0.0.0/8'"),
        ("ISSUPERSET", Operator::IsSuperset, "'10.0.0.0/8'"),
    ];
    for (written, operator, operand) in cases {
        for not in [false, true] {
            let text = format!("[x:v {}{written} {operand}]", if not { "NOT " } else { "" });
            let p = ok(&text);
            let c = only(&p);
            assert_eq!((c.operator, c.negated), (operator, not), "{text}");
            assert_round_trip(&p, &PatternLimits::default());
        }
    }
    let p = ok("[EXISTS x:v.w]");
    let c = only(&p);
    assert_eq!((c.operator, c.value.clone()), (Operator::Exists, None));
    assert_eq!(c.path, vec![key("v"), key("w")]);
    assert_eq!(p.to_string(), "[EXISTS x:v.w]");
    err("[NOT EXISTS x:v]");
    err("[x:v NOT EXISTS]");
    err("[x:v NOT NOT = 1]");
    err("[x:v = = 1]");
    err("[x:v =? 1]");
    err("[x:v ~ 1]");
}

#[test]
fn operand_types_follow_the_grammar() {
    ok("[x:v = true]");
    ok("[x:v != false]");
    ok("[x:v IN (true, 'a', 1, 2.5, t'2016-06-01T01:30:00Z', h'ff', b'AAAA')]");
    ok("[x:v < 'b']");
    ok("[x:v > t'2016-06-01T01:30:00Z']");
    ok("[x:v >= h'00ff']");
    assert!(err("[x:v < true]").message.contains("boolean"));
    err("[x:v >= false]");
    err("[x:v LIKE 1]");
    err("[x:v MATCHES t'2016-06-01T01:30:00Z']");
    err("[x:v ISSUBSET h'ff']");
    err("[x:v ISSUPERSET ('a')]");
    err("[x:v IN 'a']");
    err("[x:v IN ((1))]");
    err("[x:v = (1, 2)]");
    err("[x:v = y:w]");
}

// --- literals ----------------------------------------------------------------------------

#[test]
fn string_literals_allow_only_two_escapes() {
    assert_eq!(
        value(r"[x:v = 'it\'s a \\ backslash']"),
        s(r"it's a \ backslash")
    );
    assert_eq!(value("[x:v = '']"), s(""));
    assert_eq!(value("[x:v = 'héllo €𝄞 \"q\" \n']"), s("héllo €𝄞 \"q\" \n"));
    let e = err(r"[x:v = 'a\nb']");
    assert_eq!(e.offset, 9);
    assert!(e.message.contains("only \\' and \\\\"), "{e}");
    err(r"[x:v = 'a\x']");
    let e = err("[x:v = 'open]");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (7, "unterminated string literal")
    );
    err(r"[x:v = 'a\']");
    err(r"[x:v = 'a\");
}

#[test]
fn numbers() {
    assert_eq!(value("[x:v = 42]"), Literal::Integer(n("42")));
    assert_eq!(value("[x:v = -42]"), Literal::Integer(n("-42")));
    assert_eq!(value("[x:v = +7]"), Literal::Integer(n("+7")));
    assert_eq!(value("[x:v = 0]"), Literal::Integer(n("0")));
    assert_eq!(value("[x:v = 3.25]"), Literal::Float(n("3.25")));
    assert_eq!(value("[x:v = -.5]"), Literal::Float(n("-.5")));
    assert_eq!(value("[x:v = 007.5]"), Literal::Float(n("007.5")));
    // The grammar puts no bound on integers.
    let huge = value("[x:v = 123456789012345678901234567890]");
    assert_eq!(huge, Literal::Integer(n("123456789012345678901234567890")));
    let Literal::Integer(h) = huge else { panic!() };
    assert_eq!(h.as_i64(), None);
    assert!(h.as_f64().is_some_and(|f| f > 1e29));
    assert_eq!(n("-.5").as_f64(), Some(-0.5));
    // A leading zero is a number of its own: `007` is three numbers.
    err("[x:v = 007]");
    err("[x:v = 1.]");
    err("[x:v = 1e5]");
    err("[x:v = - 1]");
    err("[x:v = +]");
}

#[test]
fn booleans_are_lower_case() {
    assert_eq!(value("[x:v = true]"), Literal::Bool(true));
    assert_eq!(value("[x:v = false]"), Literal::Bool(false));
    let e = err("[x:v = TRUE]");
    assert!(e.message.contains("case-sensitive"), "{e}");
    err("[x:v = True]");
}

#[test]
fn timestamps_have_the_grammar_form() {
    assert_eq!(
        value("[x:v = t'2016-01-01T00:00:00Z']"),
        Literal::Timestamp("2016-01-01T00:00:00Z".to_owned())
    );
    for good in [
        "2024-12-31T23:59:59Z",
        "2024-01-15T12:30:45.123456Z",
        "2016-12-31T23:59:60Z",
        "2024-02-30T12:00:00Z",
        "0000-01-01T00:00:00.0Z",
    ] {
        ok(&format!("[x:v = t'{good}']"));
    }
    for bad in [
        "2024-13-01T12:00:00Z",
        "2024-00-01T12:00:00Z",
        "2024-01-32T12:00:00Z",
        "2024-01-00T12:00:00Z",
        "2024-01-15T24:00:00Z",
        "2024-01-15T12:60:00Z",
        "2024-01-15T12:30:61Z",
        "2024-01-15T12:30:45",
        "2024-01-15T12:30:45.Z",
        "2024-01-15t12:30:45Z",
        "2024-01-15T12:30:45z",
        "2024-01-15T12:30:45+00:00",
        "2024-01-15 12:30:45Z",
        "24-01-15T12:30:45Z",
        "2024-1-15T12:30:45Z",
        "",
    ] {
        let e = err(&format!("[x:v = t'{bad}']"));
        assert!(e.message.contains("timestamp"), "{bad}: {e}");
    }
    let e = err("[x:v = t'2024-01-15T12:30:61Z']");
    assert_eq!(e.offset, 26);
    assert!(e.message.contains("second"), "{e}");
    // Unterminated.
    err("[x:v = t'2024-01-15T12:30:45Z");
}

#[test]
fn binary_and_hex_literals() {
    assert_eq!(
        value("[artifact:payload_bin = b'dGhpcyBpcyBhIHRlc3Q=']"),
        Literal::Binary(b"this is a test".to_vec())
    );
    assert_eq!(value("[x:v = b'AAAA']"), Literal::Binary(vec![0, 0, 0]));
    assert_eq!(value("[x:v = b'/w==']"), Literal::Binary(vec![0xff]));
    assert_eq!(
        value("[x:v = b'+/+/']"),
        Literal::Binary(vec![0xfb, 0xff, 0xbf])
    );
    for bad in [
        "", "====", "A===", "AAA", "AA=A", "AAAA=", "AA==AAAA", "AA A", "AAA-",
    ] {
        let e = err(&format!("[x:v = b'{bad}']"));
        assert!(e.message.contains("binary"), "{bad}: {e}");
    }
    assert_eq!(value("[x:v = h'ffd8']"), Literal::Hex(vec![0xff, 0xd8]));
    assert_eq!(
        value("[x:v = h'ABcd09']"),
        Literal::Hex(vec![0xab, 0xcd, 0x09])
    );
    assert_eq!(value("[x:v = h'']"), Literal::Hex(vec![]));
    for bad in ["f", "fff", "fg", "f f"] {
        let e = err(&format!("[x:v = h'{bad}']"));
        assert!(e.message.contains("hex"), "{bad}: {e}");
    }
    let p = ok("[x:v = b'dGhpcyBpcyBhIHRlc3Q=' AND x:w = h'00ff' AND x:u = b'QQ==']");
    assert_round_trip(&p, &PatternLimits::default());
}

/// The unused low bits of a last, padded base64 group need not be zero: the grammar does not
/// ask it, and the hand-written decoder the `base64` crate replaced dropped them too.
#[test]
fn binary_literals_may_have_unused_bits_set() {
    assert_eq!(value("[x:v = b'AB==']"), Literal::Binary(vec![0x00]));
    assert_eq!(value("[x:v = b'AAB=']"), Literal::Binary(vec![0x00, 0x00]));
    assert_eq!(value("[x:v = b'//8=']"), Literal::Binary(vec![0xff, 0xff]));
    assert_eq!(
        value("[x:v = b'/w//']"),
        Literal::Binary(vec![0xff, 0x0f, 0xff])
    );
    // Written back canonically, to the same bytes.
    let p = ok("[x:v = b'AB==' AND x:w = b'AAB=']");
    assert_eq!(p.to_string(), "[x:v = b'AA==' AND x:w = b'AAA=']");
    assert_round_trip(&p, &PatternLimits::default());
}

/// Every body of up to eight characters of `A`, `B`, `/` and `=` is accepted exactly when it
/// has the grammar's form (groups of four, at least one, one or two `=` only at the end), and
/// an accepted one decodes to as many bytes as its groups hold and writes back to them.
#[test]
fn binary_literals_are_accepted_exactly_in_the_grammar_form() {
    const CHARS: [u8; 4] = [b'A', b'B', b'/', b'='];
    const LONGEST: u32 = 8;
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new()];
    let mut checked = 0;
    for _ in 0..=LONGEST {
        let mut longer = Vec::new();
        for body in &bodies {
            let padding = body.iter().rev().take_while(|&&c| c == b'=').count();
            let grammar_form = !body.is_empty()
                && body.len() % 4 == 0
                && padding <= 2
                && !body[..body.len() - padding].contains(&b'=');
            let pattern = format!("[x:v = b'{}']", std::str::from_utf8(body).unwrap());
            match (parse(&pattern, &PatternLimits::default()), grammar_form) {
                (Ok(p), true) => {
                    let Some(Literal::Binary(bytes)) = &only(&p).value else {
                        panic!("{pattern}: {p:?}");
                    };
                    assert_eq!(bytes.len(), body.len() / 4 * 3 - padding, "{pattern}");
                    assert_round_trip(&p, &PatternLimits::default());
                }
                (Err(e), false) => {
                    assert!(e.message.contains("binary"), "{pattern}: {e}");
                    assert_eq!(e.offset, 9, "{pattern}: {e}");
                }
                (verdict, _) => panic!("{pattern}: {verdict:?}"),
            }
            checked += 1;
            for c in CHARS {
                let mut next = body.clone();
                next.push(c);
                longer.push(next);
            }
        }
        bodies = longer;
    }
    assert_eq!(checked, (0..=LONGEST).map(|n| 4usize.pow(n)).sum::<usize>());
}

#[test]
fn hex_literals_decode_either_case() {
    assert_eq!(
        value("[x:v = h'aBcDeF0123456789']"),
        Literal::Hex(vec![0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89])
    );
    assert_eq!(ok("[x:v = h'ABCD']").to_string(), "[x:v = h'abcd']");
    let e = err("[x:v = h'abc']");
    assert_eq!(
        (e.offset, e.message.contains("even number")),
        (9, true),
        "{e}"
    );
    let e = err("[x:v = h'abx']");
    assert_eq!(
        (e.offset, e.message.contains("only hex digits")),
        (11, true),
        "{e}"
    );
}

#[test]
fn set_literals() {
    assert_eq!(
        value("[file:name IN ('test.txt', 'test2.exe', 'README')]"),
        Literal::Set(vec![s("test.txt"), s("test2.exe"), s("README")])
    );
    assert_eq!(
        value("[network-traffic:dst_port IN(443,6443,8443)]"),
        Literal::Set(vec![
            Literal::Integer(n("443")),
            Literal::Integer(n("6443")),
            Literal::Integer(n("8443"))
        ])
    );
    assert_eq!(value("[x:v IN ()]"), Literal::Set(vec![]));
    assert_eq!(
        value("[x:v NOT IN (1, 'a', true)]"),
        Literal::Set(vec![Literal::Integer(n("1")), s("a"), Literal::Bool(true)])
    );
    err("[x:v IN (1,)]");
    err("[x:v IN (,1)]");
    err("[x:v IN (1 2)]");
    err("[x:v IN (1]");
    err("[x:v IN ]");
}

// --- the lexer ---------------------------------------------------------------------------

#[test]
fn keywords_are_case_sensitive() {
    let e = err("[foo:bar=1] within 2 seconds");
    assert_eq!(e.offset, 12);
    assert!(e.message.contains("'within'"), "{e}");
    err("[a:v=1] and [b:v=2]");
    err("[a:v=1 or b:v=2]");
    err("[a:v=1] followedby [b:v=2]");
    err("[a:v like 'x']");
    err("[exists a:v]");
    ok("[a:AND_x=1]");
    ok("[ANDx:v=1]");
}

#[test]
fn blanks_and_comments() {
    ok("[a:v=1]AND[b:v=2]");
    ok("\t[ a:v\n=\r1 ]\u{3000}AND\u{a0}[b:v=2]\u{2028}");
    ok("[a:v = 1 /* a comment, with ] and ' inside */ AND b:v = 2] // trailing");
    ok("[a:v = 1] // one\n AND [b:v = 2]");
    assert!(err("[a:v = 1 /* open").message.contains("comment"));
    err("[a:v = 1] /");
    // The validator's bracket check: nothing but blanks and '(' before the first '['.
    ok("  ( ([a:v = 1]) )");
    let e = err("/* first */ [a:v = 1]");
    assert_eq!(e.offset, 0);
    err("// first\n[a:v = 1]");
    err("( /* c */ [a:v = 1])");
    // A blank the grammar skips but Python's isspace does not know is not an issue: the
    // grammar refuses it first.
    err("\u{1c}[a:v = 1]");
}

#[test]
fn unexpected_characters_are_reported_where_they_are() {
    let e = err("[a:v = 1] é");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (10, "unexpected character 'é'")
    );
    let e = err("[a:v = 'é' AND b:v = 1 € 2]");
    assert_eq!(e.offset, 24);
    let e = err("[a:v = 1]\0");
    assert_eq!(e.offset, 9);
    err("[a:v = 1] ^");
    err("[a:v = \"x\"]");
    err("[a:v = `x`]");
    err("[a:v = 1] ;");
}

// --- the validator's hash check ----------------------------------------------------------

#[test]
fn hash_values_must_match_their_algorithm() {
    let md5 = "cead3f77f6cda6ec00f57d76c9a6879f";
    let sha256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f";
    ok(&format!("[file:hashes.MD5 = '{md5}']"));
    ok(&format!("[file:hashes.md5 = '{md5}']"));
    ok(&format!("[file:hashes.'SHA-256' = '{sha256}']"));
    ok(&format!(
        "[file:hashes.'sha-256' = '{}']",
        sha256.to_uppercase()
    ));
    ok(&format!("[file:hashes.SHA256 != '{sha256}']"));
    let e = err("[file:hashes.'SHA-256' = 'f00']");
    assert_eq!(e.offset, 25);
    assert!(
        e.message.contains("'f00' is not a valid SHA-256 hash"),
        "{e}"
    );
    err(&format!("[file:hashes.MD5 = '{sha256}']"));
    err(&format!("[file:hashes.MD5 = '{md5}0']"));
    err("[file:hashes.'SHA-1' = 'zz']");
    err("[file:hashes.MD5 LIKE 'cead%']");
    ok(&format!("[file:hashes.MD5 NOT = '{md5}' OR file:size = 1]"));
    err("[file:size = 1 OR file:hashes.MD5 NOT = 'cead3f77']");
    // Only known algorithms, only under `hashes`, only when the path ends in the name.
    ok("[file:hashes.'x-custom' = 'anything']");
    ok("[file:hashes[*] = 'anything']");
    ok("[file:checksums.MD5 = 'anything']");
    ok("[file:hashes.MD5.x = 'anything']");
    ok("[EXISTS file:hashes.MD5]");
    ok(&format!("[x:a[0].hashes.MD5 = '{md5}']"));
    err("[x:a[0].hashes.MD5 = 'f00']");
    // SSDEEP has its own alphabet.
    ok("[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']");
    err("[file:hashes.SSDEEP = 'has spaces']");
    err("[file:hashes.SSDEEP = '']");
    // The validator's MD6 expression accepts anything that begins with 32 hex digits.
    ok(&format!("[file:hashes.MD6 = '{md5}-and-more']"));
    err("[file:hashes.MD6 = 'f00']");
    // The check reads the literal's text: a set never has a hash's form.
    err(&format!("[file:hashes.MD5 IN ('{md5}')]"));
    // And a number is checked as its digits.
    ok("[file:hashes.MD5 = 12345678901234567890123456789012]");
}

// --- errors ------------------------------------------------------------------------------

#[test]
fn errors_carry_an_offset_and_a_precise_message() {
    let e = err("[file:size = ]");
    assert_eq!(e.offset, 13);
    assert_eq!(e.message, "expected a literal value after '=', found ']'");
    assert_eq!(
        e.to_string(),
        "invalid pattern at byte 13: expected a literal value after '=', found ']'"
    );
    let e = err("file:size = 1280");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (0, "expected '[' or '(', found 'file'")
    );
    let e = err("");
    assert_eq!(
        e.message,
        "expected '[' or '(', found the end of the pattern"
    );
    let e = err("[a:v = 1");
    assert_eq!(
        (e.offset, e.message.as_str()),
        (8, "expected AND, OR or ']', found the end of the pattern")
    );
    let e = err("([a:v = 1]");
    assert_eq!(e.offset, 10);
    assert!(
        e.message
            .starts_with("expected AND, OR, FOLLOWEDBY, a qualifier or ')'")
    );
    let e = err("[a:v = 1]]");
    assert_eq!(e.offset, 9);
    let e = err("[a:v = 1] AND");
    assert_eq!(e.offset, 13);
    // Long tokens are shortened in messages.
    let e = err(&format!("[a:v = 1] {}", "x".repeat(1000)));
    assert!(e.message.len() < 200, "{e}");
}

// --- limits ------------------------------------------------------------------------------

#[test]
fn length_is_checked_first() {
    let text = "[a:v = 1]";
    let limits = PatternLimits {
        max_len: text.len(),
        ..PatternLimits::default()
    };
    assert!(parse(text, &limits).is_ok());
    let limits = PatternLimits {
        max_len: text.len() - 1,
        ..PatternLimits::default()
    };
    let e = parse(text, &limits).unwrap_err();
    assert_eq!(e.offset, text.len() - 1);
    assert!(e.message.contains("over the limit of 8 bytes"), "{e}");
    // Over-long garbage is refused for its length, not parsed.
    let e = parse(&"\u{1F600}".repeat(5000), &PatternLimits::default()).unwrap_err();
    assert!(e.message.contains("20000 bytes"), "{e}");
    // The limit may fall inside a multi-byte character.
    let e = parse(
        "[a:v = 'é']",
        &PatternLimits {
            max_len: 9,
            ..PatternLimits::default()
        },
    );
    assert!(e.is_err());
}

#[test]
fn depth_is_limited() {
    let nest = |d: usize| format!("{}[a:v=1]{}", "(".repeat(d - 1), ")".repeat(d - 1));
    let limits = PatternLimits::default();
    assert!(parse(&nest(32), &limits).is_ok());
    let e = parse(&nest(33), &limits).unwrap_err();
    assert_eq!(e.offset, 32);
    assert_eq!(
        e.message,
        "brackets and parentheses are nested more than 32 deep"
    );

    // Parentheses inside brackets count as well.
    let inner = |d: usize| format!("[{}a:v=1{}]", "(".repeat(d - 1), ")".repeat(d - 1));
    assert!(parse(&inner(32), &limits).is_ok());
    assert!(parse(&inner(33), &limits).is_err());
    let mixed = format!(
        "{}[{}a:v=1{}]{}",
        "(".repeat(15),
        "(".repeat(16),
        ")".repeat(16),
        ")".repeat(15)
    );
    assert!(parse(&mixed, &limits).is_ok());

    // Index steps and set literals do not nest.
    assert!(
        parse(
            "[a:v[0][1][*] IN (1, 2)]",
            &PatternLimits {
                max_depth: 1,
                ..limits
            }
        )
        .is_ok()
    );
    let small = PatternLimits {
        max_depth: 2,
        ..limits
    };
    assert!(parse("([a:v=1])", &small).is_ok());
    assert!(parse("[(a:v=1)]", &small).is_ok());
    assert!(parse("(([a:v=1]))", &small).is_err());
    assert!(
        parse(
            "[a:v=1]",
            &PatternLimits {
                max_depth: 0,
                ..limits
            }
        )
        .is_err()
    );
}

#[test]
fn depth_is_capped_at_the_ceiling() {
    let limits = big(usize::MAX, usize::MAX);
    let d = MAX_DEPTH_CEILING;
    let at = format!("{}[a:v=1]{}", "(".repeat(d - 1), ")".repeat(d - 1));
    assert!(parse(&at, &limits).is_ok());
    let over = format!("({at})");
    let e = parse(&over, &limits).unwrap_err();
    assert!(e.message.contains(&format!("more than {d} deep")), "{e}");
}

#[test]
fn comparisons_are_limited() {
    let chain = |n: usize| {
        let parts: Vec<_> = (0..n).map(|i| format!("a:v = {i}")).collect();
        format!("[{}]", parts.join(" OR "))
    };
    let limits = PatternLimits::default();
    assert!(parse(&chain(512), &limits).is_ok());
    let e = parse(&chain(513), &limits).unwrap_err();
    assert_eq!(e.message, "more than 512 comparisons");
    // Across observations, and EXISTS counts.
    let limits = PatternLimits {
        max_comparisons: 3,
        ..limits
    };
    assert!(parse("[a:v=1] AND [EXISTS b:v] FOLLOWEDBY [c:v=1]", &limits).is_ok());
    let text = "[a:v=1] AND [EXISTS b:v] FOLLOWEDBY [c:v=1 AND EXISTS d:v]";
    let e = parse(text, &limits).unwrap_err();
    assert_eq!(e.offset, text.find("EXISTS d:v").unwrap());
}

#[test]
fn a_hundred_thousand_openers_fail_fast_on_a_small_stack() {
    on_small_stack(|| {
        for opener in ["(", "[", "[(", "(["] {
            let text = opener.repeat(100_000);
            let started = std::time::Instant::now();
            let e = parse(&text, &big(32, 512)).unwrap_err();
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
            assert!(e.offset < 100, "{opener}: {e}");
            // Even when the configured limit is absurd.
            let e = parse(&text, &big(usize::MAX, usize::MAX)).unwrap_err();
            assert!(e.offset <= 2 * MAX_DEPTH_CEILING, "{opener}: {e}");
        }
    });
}

#[test]
fn the_deepest_accepted_patterns_fit_a_small_stack() {
    on_small_stack(|| {
        let limits = big(usize::MAX, usize::MAX);
        let d = MAX_DEPTH_CEILING;
        let texts = [
            format!("{}[a:v=1]{}", "(".repeat(d - 1), ")".repeat(d - 1)),
            format!("[{}a:v=1{}]", "(".repeat(d - 1), ")".repeat(d - 1)),
            format!(
                "{}[{}a:v=1{}] WITHIN 1 SECONDS{}",
                "(".repeat(d / 2),
                "(".repeat(d / 2 - 1),
                ")".repeat(d / 2 - 1),
                ") REPEATS 2 TIMES".repeat(d / 2)
            ),
        ];
        for text in texts {
            let p = parse(&text, &limits).unwrap();
            assert_eq!(p.comparisons().count(), 1);
            let shown = p.to_string();
            assert!(parse(&shown, &limits).is_ok(), "{shown}");
            let copy = p.clone();
            assert_eq!(copy, p);
            drop(copy);
        }
    });
}

#[test]
fn the_deepest_accepted_regexes_fit_a_small_stack() {
    on_small_stack(|| {
        let n = super::super::matches::NEST_LIMIT as usize;
        // Groups and classes as deep as the regex parser allows (each level counts once).
        let groups = format!("{}a{}", "(".repeat(n), ")".repeat(n));
        let classes = format!("{}a{}", "[".repeat(n), "]".repeat(n));
        for (re, accepted) in [(groups.as_str(), true), (classes.as_str(), true)] {
            let text = format!("[a:v MATCHES '{re}']");
            assert_eq!(
                parse(&text, &PatternLimits::default()).is_ok(),
                accepted,
                "{re}"
            );
        }
        // And far deeper, refused before anything recurses.
        let deeper = format!("[a:v MATCHES '{}a{}']", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&deeper, &PatternLimits::default()).is_err());
    });
}

#[test]
fn long_chains_are_parsed_without_recursion() {
    on_small_stack(|| {
        let n = 20_000;
        let limits = big(32, usize::MAX);
        for joiner in [" AND ", " OR ", " FOLLOWEDBY "] {
            let text = vec!["[a:v = 1]"; n].join(joiner);
            let p = parse(&text, &limits).unwrap();
            assert_eq!(p.observation_count(), n);
            assert_eq!(p.comparisons().count(), n);
            assert_round_trip(&p, &limits);
        }
        for joiner in [" AND ", " OR "] {
            let text = format!("[{}]", vec!["a:v = 1"; n].join(joiner));
            let p = parse(&text, &limits).unwrap();
            assert_eq!(p.comparison_count(), n);
        }
        let text = format!("([a:v = 1]){}", " WITHIN 1 SECONDS".repeat(n));
        let p = parse(&text, &limits).unwrap();
        assert_eq!(p.root().qualifiers.len(), n);
        let text = format!("[a:v{} = 1]", ".w[0]".repeat(n));
        let p = parse(&text, &limits).unwrap();
        assert_eq!(only(&p).path.len(), 2 * n + 1);
        let text = format!("[a:v IN ({})]", vec!["1"; n].join(", "));
        assert!(parse(&text, &limits).is_ok());
        // And the default comparison limit stops a long chain early.
        let text = vec!["[a:v = 1]"; n].join(" AND ");
        let e = parse(
            &text,
            &PatternLimits {
                max_len: usize::MAX,
                ..PatternLimits::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.message, "more than 512 comparisons");
    });
}

// --- no panics ---------------------------------------------------------------------------

/// xorshift64*: deterministic, no crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    " ",
    "\t",
    "\n",
    ":",
    ".",
    ",",
    "*",
    "'",
    "\\",
    "\\'",
    "\\\\",
    "=",
    "==",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "!",
    "+",
    "-",
    "/",
    "//",
    "/*",
    "*/",
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "IN",
    "LIKE",
    "MATCHES",
    "ISSUBSET",
    "ISSUPERSET",
    "EXISTS",
    "WITHIN",
    "SECONDS",
    "REPEATS",
    "TIMES",
    "START",
    "STOP",
    "LAST",
    "true",
    "false",
    "file",
    "ipv4-addr",
    "x-custom",
    "hashes",
    "MD5",
    "'SHA-256'",
    "value",
    "0",
    "7",
    "42",
    "-3",
    "1.5",
    ".5",
    "00",
    "'abc'",
    "'é€𝄞'",
    "t'2016-01-01T00:00:00Z'",
    "t'",
    "b'AAAA'",
    "b'",
    "h'ff'",
    "h'",
    "é",
    "€",
    "𝄞",
    "\u{3000}",
    "\u{2028}",
    "\u{a0}",
    "\u{85}",
    "\u{0}",
    "\u{7f}",
    "\u{feff}",
    "\u{fffd}",
];

#[test]
fn no_panic_on_pseudo_random_input() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let limits = PatternLimits::default();
    let mut accepted = 0;
    for round in 0..600 {
        let text = match round % 3 {
            // Raw bytes, made into text the lossy way (so with U+FFFD).
            0 => {
                let len = rng.below(64);
                let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            // Token soup.
            1 => (0..rng.below(40))
                .map(|_| FRAGMENTS[rng.below(FRAGMENTS.len())])
                .collect(),
            // A valid pattern, cut or with one byte-range replaced.
            _ => {
                let base = "([file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' \
                            OR x-a:b[*].c NOT IN (1, 'é', t'2016-01-01T00:00:00Z')] AND [EXISTS y:z]) \
                            REPEATS 2 TIMES FOLLOWEDBY [u:v MATCHES '^\\\\d+$'] WITHIN 5.5 SECONDS";
                let mut t = base.to_owned();
                let at = rng.below(t.len());
                let at = (0..=at).rev().find(|&i| t.is_char_boundary(i)).unwrap();
                if rng.below(2) == 0 {
                    t.truncate(at);
                } else {
                    t.insert_str(at, FRAGMENTS[rng.below(FRAGMENTS.len())]);
                }
                t
            }
        };
        match parse(&text, &limits) {
            Ok(p) => {
                accepted += 1;
                assert_round_trip(&p, &limits);
            }
            Err(e) => {
                assert!(e.offset <= text.len(), "{text:?}: {e}");
                assert!(!e.message.is_empty());
            }
        }
    }
    // The generator does reach valid patterns too.
    assert!(accepted > 10, "{accepted}");
}
