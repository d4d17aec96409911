//! The regular expressions of `MATCHES`, checked before a pattern is stored or shared.
//!
//! STIX says the operand is a PCRE regular expression, and every consumer that receives the
//! pattern compiles it with its own engine: often a backtracking one (PCRE, Python `re`,
//! Java), where some expressions take exponential time on a short input, and where an
//! invalid one can stop the consumer's import. So a regex is accepted only when:
//!
//! 1. the `regex` crate's parser (`regex-syntax`) accepts it. Its syntax has no
//!    back-references and no look-around, the features that make matching super-linear in
//!    every engine; what it accepts, a linear-time engine matches in linear time. PCRE
//!    features outside it (back-references, look-around, atomic groups, possessive
//!    quantifiers, `\Z`, conditionals, recursion) are refused with the parser's reason.
//!    Octal escapes are off, so `\1` is refused as a back-reference rather than read as a
//!    character.
//! 2. it has no ambiguous repetition, the shape behind exponential backtracking (`(a+)+`,
//!    `(a|a)*`, `(a?){30}`): inside a repeated sub-expression (under a quantifier whose
//!    maximum is above 1: `*`, `+`, `{m,}`, `{m,n}` with n > 1), no quantifier may have a
//!    variable count (`?`, `*`, `+`, `{m,}`, `{m,n}` with m < n) and there may be no
//!    alternation (`|`). Only fixed shapes repeat: `(ab)+`, `(\d{2}:){5}`, `(?:\.[a-z]{3})+`
//!    pass; `([a-z0-9]+\.)+`, `(\d{1,3}\.){3}` and `(a|b)+` do not, and are written with a
//!    character class (`[a-z0-9.]+`, `[ab]+`) or unrolled (`\d{1,3}\.\d{1,3}\.\d{1,3}\.`).
//!    The rule is on the syntax as written, never on a simplified form,
//!    because the consumer's engine sees the text. It is conservative (some refused
//!    expressions are harmless, e.g. `(ab?)+`) and deliberately simple to state. It does not
//!    bound polynomial backtracking (`.*a.*b` is O(n²) in a backtracking engine): that
//!    needs a consumer-side timeout, and refusing every pair of `.*` would refuse most
//!    real expressions.
//! 3. its nesting is at most [`NEST_LIMIT`] (groups, repetitions, classes), and the
//!    Thompson NFA the `regex` crate's engines build from it stays within a size limit
//!    ([`super::pattern::PatternLimits::max_regex_bytes`], for all the regexes of one pattern
//!    together). That bounds counted repetitions that expand (`(\w{100}){100}`) for the
//!    consumer and for the hub, which compiles each regex once when it checks it.
//!
//! Nothing here recurses on the input: `regex-syntax` parses with an explicit stack and its
//! visitor walks the syntax tree on the heap; the NFA compiler recurses only as deep as the
//! nesting, which [`NEST_LIMIT`] bounds.

use regex_automata::nfa::thompson;
use regex_syntax::ast::{self, Ast, RepetitionKind, RepetitionRange};
use regex_syntax::hir::translate::TranslatorBuilder;

/// Deepest nesting of groups, repetitions and classes in one regular expression: as deep as
/// a pattern's own brackets may go, and far below any stack's size for the NFA compiler.
pub const NEST_LIMIT: u32 = 32;

/// Longest piece of a regex quoted in an error message.
const MAX_QUOTED_CHARS: usize = 40;

/// Why a `MATCHES` operand is refused. Offsets are bytes into the regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegexError {
    /// Not in the syntax `regex-syntax` accepts (with its reason: "unclosed group",
    /// "backreferences are not supported", "look-around … is not supported", …).
    #[error("invalid regular expression at byte {offset} of the regex: {reason}")]
    Syntax { offset: usize, reason: String },
    /// A quantifier with a variable count, or an alternation, inside a repeated
    /// sub-expression.
    #[error(
        "{what} {inner:?} inside the repeated {outer:?}: backtracking engines (PCRE, Python \
         re) can take exponential time on it; only fixed shapes may repeat (write a \
         character class, or unroll a bounded repetition)"
    )]
    AmbiguousRepetition {
        what: &'static str,
        inner: String,
        outer: String,
        offset: usize,
    },
    /// The compiled regex (or all the regexes of the pattern) would be too large.
    #[error("the regular expression compiles to more than {limit} bytes")]
    TooLarge { limit: usize },
}

fn quoted(re: &str, span: &ast::Span) -> String {
    let text = re.get(span.start.offset..span.end.offset).unwrap_or("");
    let mut out: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    if text.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// The largest count a quantifier allows (`None`: unbounded), and whether its count varies.
fn counts(kind: &RepetitionKind) -> (Option<u32>, bool) {
    match kind {
        RepetitionKind::ZeroOrOne => (Some(1), true),
        RepetitionKind::ZeroOrMore
        | RepetitionKind::OneOrMore
        | RepetitionKind::Range(RepetitionRange::AtLeast(_)) => (None, true),
        RepetitionKind::Range(RepetitionRange::Exactly(n)) => (Some(*n), false),
        RepetitionKind::Range(RepetitionRange::Bounded(m, n)) => (Some(*n), m != n),
    }
}

/// Walks the syntax tree (on the heap, through `regex-syntax`'s visitor) with the
/// repeated sub-expressions that enclose the current node.
struct Ambiguity<'a> {
    re: &'a str,
    /// The spans of the enclosing repetitions whose maximum is above 1, innermost last.
    repeated: Vec<ast::Span>,
    /// For every open node, whether it pushed onto `repeated`.
    pushed: Vec<bool>,
}

impl ast::Visitor for Ambiguity<'_> {
    type Output = ();
    type Err = RegexError;

    fn finish(self) -> Result<(), RegexError> {
        Ok(())
    }

    fn visit_pre(&mut self, node: &Ast) -> Result<(), RegexError> {
        let mut pushed = false;
        let refuse = |what: &'static str, inner: &ast::Span, outer: &ast::Span| {
            RegexError::AmbiguousRepetition {
                what,
                inner: quoted(self.re, inner),
                outer: quoted(self.re, outer),
                offset: inner.start.offset,
            }
        };
        match node {
            Ast::Repetition(rep) => {
                let (max, varies) = counts(&rep.op.kind);
                if let Some(outer) = self.repeated.last()
                    && varies
                {
                    let what = if max.is_none() {
                        "the unbounded repetition"
                    } else {
                        "the repetition of variable count"
                    };
                    return Err(refuse(what, &rep.span, outer));
                }
                if max.is_none_or(|n| n > 1) {
                    self.repeated.push(rep.span);
                    pushed = true;
                }
            }
            Ast::Alternation(alt) => {
                if let Some(outer) = self.repeated.last() {
                    return Err(refuse("the alternation", &alt.span, outer));
                }
            }
            _ => {}
        }
        self.pushed.push(pushed);
        Ok(())
    }

    fn visit_post(&mut self, _node: &Ast) -> Result<(), RegexError> {
        if self.pushed.pop() == Some(true) {
            self.repeated.pop();
        }
        Ok(())
    }
}

/// Checks one `MATCHES` operand (the regex as the pattern's string literal holds it, after
/// the pattern's own `\'` and `\\` escapes). `budget` is how many bytes of compiled NFA the
/// pattern may still use; what this regex takes is deducted from it.
pub fn check(re: &str, budget: &mut usize) -> Result<(), RegexError> {
    let syntax = |e: &dyn SyntaxError| RegexError::Syntax {
        offset: e.offset(),
        reason: e.reason(),
    };
    let tree = ast::parse::ParserBuilder::new()
        .nest_limit(NEST_LIMIT)
        .octal(false)
        .build()
        .parse(re)
        .map_err(|e| syntax(&e))?;
    ast::visit(
        &tree,
        Ambiguity {
            re,
            repeated: Vec::new(),
            pushed: Vec::new(),
        },
    )?;
    // A regex for binary properties may match bytes that are not UTF-8 (`(?-u:\xff)`): that
    // costs no consumer anything, so it is not refused.
    let hir = TranslatorBuilder::new()
        .utf8(false)
        .build()
        .translate(re, &tree)
        .map_err(|e| syntax(&e))?;
    let limit = *budget;
    let nfa = thompson::Compiler::new()
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(limit))
                .utf8(false),
        )
        .build_from_hir(&hir)
        .map_err(|_| RegexError::TooLarge { limit })?;
    *budget = budget.saturating_sub(nfa.memory_usage());
    Ok(())
}

/// The two error types of `regex-syntax`, read the same way: their one-line reason (their
/// `Display` draws the regex over several lines).
trait SyntaxError {
    fn offset(&self) -> usize;
    fn reason(&self) -> String;
}

impl SyntaxError for ast::Error {
    fn offset(&self) -> usize {
        self.span().start.offset
    }

    fn reason(&self) -> String {
        self.kind().to_string()
    }
}

impl SyntaxError for regex_syntax::hir::Error {
    fn offset(&self) -> usize {
        self.span().start.offset
    }

    fn reason(&self) -> String {
        self.kind().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: usize = 1 << 20;

    fn check_one(re: &str) -> Result<(), RegexError> {
        check(re, &mut BUDGET.clone())
    }

    fn refused(re: &str) -> RegexError {
        match check_one(re) {
            Ok(()) => panic!("{re:?} was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn ordinary_indicator_regexes_pass() {
        for re in [
            r".+\@ibm\.com$",
            r"^Final Report.+\.exe$",
            r"dGVzdHRlc3R0ZXN0",
            r"\xd4\xc3\xb2\xa1\x02\x00\x04\x00",
            r"^.+>-add GlobalSign.cer -c -s -r localMachine Root$",
            r"^[IMPORTANT] Please Review Before",
            r"^(?i)dc01\.victim\.re$",
            r"^C:\\Users\\[^\\]+\\AppData\\.*\.exe$",
            r"^https?://[a-z0-9.-]+/gate\.php\?id=\d{6}$",
            r"(ab)+",
            r"(\d{2}:){5}\d{2}",
            r"(?:\.[a-z]{3})+",
            r"(?P<host>[a-z]+)\.example$",
            r"(?-u:\xff)\x00",
            r"",
            r"a\/b\-c",
        ] {
            assert_eq!(check_one(re), Ok(()), "{re}");
        }
    }

    #[test]
    fn matches_invalid_regex_is_refused() {
        let e = refused("(((");
        assert!(
            matches!(&e, RegexError::Syntax { reason, .. } if reason.contains("unclosed group")),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("invalid regular expression at byte")
        );
        for re in ["[a-", "a{2,1}", "*a", "\\", "(?<", "a{99999999999}"] {
            assert!(matches!(refused(re), RegexError::Syntax { .. }), "{re}");
        }
    }

    #[test]
    fn matches_with_backreferences_or_lookaround_is_refused() {
        for (re, why) in [
            (r"(a)\1", "backreference"),
            (r"a(?=b)", "look-around"),
            (r"a(?!b)", "look-around"),
            (r"(?<=a)b", "look-around"),
            (r"(?<!a)b", "look-around"),
        ] {
            match refused(re) {
                RegexError::Syntax { reason, .. } => {
                    assert!(reason.contains(why), "{re}: {reason}")
                }
                other => panic!("{re}: {other}"),
            }
        }
        // PCRE-only constructs are refused too, with the parser's reason.
        for re in [r"(?>a+)b", r"a\Z", r"(?(1)a|b)"] {
            assert!(matches!(refused(re), RegexError::Syntax { .. }), "{re}");
        }
        // `regex-syntax` reads a possessive `a++` as `(a+)+`: refused all the same.
        for re in [r"a++b", "a**"] {
            assert!(
                matches!(refused(re), RegexError::AmbiguousRepetition { .. }),
                "{re}"
            );
        }
    }

    #[test]
    fn matches_with_catastrophic_backtracking_is_refused() {
        let e = refused("^(a+)+$");
        assert_eq!(
            e,
            RegexError::AmbiguousRepetition {
                what: "the unbounded repetition",
                inner: "a+".into(),
                outer: "(a+)+".into(),
                offset: 2,
            }
        );
        assert!(e.to_string().contains("exponential"), "{e}");
        for re in [
            "(a*)*",
            "(a+)*b",
            "(.*a){20}",
            "(?:x+x+)+y",
            "((a+))+",
            "([a-z0-9]+\\.)+evil\\.com",
            "(a|a)*",
            "(a|aa)+b",
            "(\\w|\\d)+",
            "(a?){30}",
            "(a{1,2})+",
            "(\\d{1,3}\\.){3}",
            "((ab){2,})+",
        ] {
            assert!(
                matches!(refused(re), RegexError::AmbiguousRepetition { .. }),
                "{re}"
            );
        }
        // A repetition that cannot repeat (max 1) is no hazard, nor is a quantifier beside
        // another one.
        for re in ["(a+)?", "(a|b)?c", "(a*){1}", "a+b+", "(a+)", "(?:ab){3}c*"] {
            assert_eq!(check_one(re), Ok(()), "{re}");
        }
    }

    #[test]
    fn nesting_and_compiled_size_are_bounded() {
        let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert!(
            matches!(refused(&deep), RegexError::Syntax { reason, .. } if reason.contains("nest"))
        );
        let ok = format!("{}a{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(check_one(&ok), Ok(()));
        // Counted repetitions expand in the compiled form.
        assert_eq!(
            refused(r"(\w{100}){100}"),
            RegexError::TooLarge { limit: BUDGET }
        );
        assert_eq!(
            refused(r"a{100000}"),
            RegexError::TooLarge { limit: BUDGET }
        );
        // The budget is shared by the regexes of one pattern.
        let mut budget = BUDGET;
        check(r"\w{20}", &mut budget).unwrap();
        assert!(budget < BUDGET);
        let mut exhausted = 0;
        while check(r"\w{20}", &mut budget).is_ok() {
            exhausted += 1;
            assert!(exhausted < 100);
        }
        assert!(exhausted >= 1);
    }
}
