//! The parser: the grammar above the tokens, without recursion. Open brackets and parentheses
//! are frames on an explicit stack and operator chains flat vectors, so that no input can reach
//! the native stack; the limits are enforced as the tokens come.

use super::ast::{
    Comparison, ComparisonExpr, Literal, Number, ObservationExpr, ObservationKind, Operator,
    PathStep, Pattern, Qualifier,
};
use super::error::{PatternError, shown};
use super::lexer::{Kw, Lexer, Tk, Token, keyword};
use super::limits::{MAX_DEPTH_CEILING, PatternLimits};
use super::literal::{decode_binary, decode_hex, unescape};
use super::validator::{bracket_check, check_hash_value};
use crate::domain::stix::matches;

/// Parses `pattern` under `limits`.
pub fn parse(pattern: &str, limits: &PatternLimits) -> Result<Pattern, PatternError> {
    if pattern.len() > limits.max_len {
        return Err(PatternError::new(
            limits.max_len,
            format!(
                "the pattern is {} bytes, over the limit of {} bytes",
                pattern.len(),
                limits.max_len
            ),
        ));
    }
    let mut parser = Parser {
        lexer: Lexer::new(pattern),
        peeked: None,
        max_depth: limits.max_depth.min(MAX_DEPTH_CEILING),
        max_comparisons: limits.max_comparisons,
        max_repeats: limits.max_repeats,
        max_within_secs: limits.max_within_secs,
        regex_budget: limits.max_regex_bytes,
        observations: 0,
        comparisons: 0,
    };
    let root = parser.parse_pattern()?;
    let end = parser.peek()?;
    if end.kind != Tk::Eof {
        return Err(parser.expected(
            "AND, OR, FOLLOWEDBY, a qualifier (WITHIN, REPEATS, START) or the end of the pattern",
            end,
        ));
    }
    if let Some(offset) = bracket_check(pattern) {
        return Err(PatternError::new(
            offset,
            "the pattern must begin with '[' (after any '('); nothing else, not even a comment, \
             may come first",
        ));
    }
    Ok(Pattern {
        root,
        observations: parser.observations,
        comparisons: parser.comparisons,
    })
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    max_depth: usize,
    max_comparisons: usize,
    max_repeats: u32,
    max_within_secs: u32,
    /// Compiled-regex bytes the pattern's `MATCHES` may still take.
    regex_budget: usize,
    observations: usize,
    comparisons: usize,
}

/// Whether a non-negative number as the lexer read it (`5`, `+5`, `2.5`, `.5`, `007.5`) is
/// above `max`, compared exactly on its digits: no float rounding, no integer overflow.
pub(super) fn number_above(text: &str, max: u32) -> bool {
    let digits = text.strip_prefix('+').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let whole = whole.trim_start_matches('0');
    // More than ten digits is beyond any u32.
    if whole.len() > 10 {
        return true;
    }
    let value: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().unwrap_or(u64::MAX)
    };
    let max = u64::from(max);
    value > max || (value == max && fraction.bytes().any(|b| b != b'0'))
}

/// Joins the operands of one operator level: a single operand stands for itself.
fn join<T>(mut operands: Vec<T>, make: impl FnOnce(Vec<T>) -> T) -> T {
    if operands.len() == 1
        && let Some(only) = operands.pop()
    {
        return only;
    }
    make(operands)
}

fn join_observations(
    operands: Vec<ObservationExpr>,
    make: fn(Vec<ObservationExpr>) -> ObservationKind,
) -> ObservationExpr {
    join(operands, |v| ObservationExpr {
        kind: make(v),
        qualifiers: Vec::new(),
    })
}

/// An operand that has just been parsed completely.
enum Operand {
    Observation(ObservationExpr),
    Comparison(ComparisonExpr),
}

/// An open `[` or `(`, or the whole pattern, while its contents are parsed.
enum Frame {
    /// The pattern itself (`open` is `None`) or a `(` around observation expressions:
    /// FOLLOWEDBY over OR over AND.
    Observations(ObservationFrame),
    /// A `[` (`bracket`) or a `(` inside one: OR over AND.
    Comparisons(ComparisonFrame),
}

struct ObservationFrame {
    /// The `(` that opened the frame; `None` for the whole pattern.
    open: Option<Token>,
    followed: Vec<ObservationExpr>,
    ors: Vec<ObservationExpr>,
    ands: Vec<ObservationExpr>,
}

impl ObservationFrame {
    fn new(open: Option<Token>) -> Self {
        Self {
            open,
            followed: Vec::new(),
            ors: Vec::new(),
            ands: Vec::new(),
        }
    }

    fn or(&mut self) {
        let ands = std::mem::take(&mut self.ands);
        self.ors.push(join_observations(ands, ObservationKind::And));
    }

    fn followed_by(&mut self) {
        self.or();
        let ors = std::mem::take(&mut self.ors);
        self.followed
            .push(join_observations(ors, ObservationKind::Or));
    }

    fn finish(&mut self) -> ObservationExpr {
        self.followed_by();
        let followed = std::mem::take(&mut self.followed);
        join_observations(followed, ObservationKind::FollowedBy)
    }
}

struct ComparisonFrame {
    bracket: bool,
    ors: Vec<ComparisonExpr>,
    ands: Vec<ComparisonExpr>,
}

impl ComparisonFrame {
    fn new(bracket: bool) -> Self {
        Self {
            bracket,
            ors: Vec::new(),
            ands: Vec::new(),
        }
    }

    fn or(&mut self) {
        let ands = std::mem::take(&mut self.ands);
        self.ors.push(join(ands, ComparisonExpr::And));
    }

    fn finish(&mut self) -> ComparisonExpr {
        self.or();
        join(std::mem::take(&mut self.ors), ComparisonExpr::Or)
    }
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<Token, PatternError> {
        if let Some(t) = self.peeked {
            return Ok(t);
        }
        let t = self.lexer.next_token()?;
        self.peeked = Some(t);
        Ok(t)
    }

    fn bump(&mut self) -> Result<Token, PatternError> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    fn text(&self, t: Token) -> &'a str {
        self.lexer.src.get(t.start..t.end).unwrap_or("")
    }

    fn describe(&self, t: Token) -> String {
        let text = self.text(t);
        match t.kind {
            Tk::Eof => "the end of the pattern".to_owned(),
            Tk::Ident
                if keyword(&text.to_ascii_uppercase()).is_some()
                    || text.eq_ignore_ascii_case("true")
                    || text.eq_ignore_ascii_case("false") =>
            {
                format!(
                    "'{}' (keywords are case-sensitive: upper-case, and true/false lower-case)",
                    shown(text)
                )
            }
            Tk::Str => format!("the string {}", shown(text)),
            _ => format!("'{}'", shown(text)),
        }
    }

    fn expected(&self, what: &str, found: Token) -> PatternError {
        PatternError::new(
            found.start,
            format!("expected {what}, found {}", self.describe(found)),
        )
    }

    fn expect(&mut self, kind: Tk, what: &str) -> Result<Token, PatternError> {
        let t = self.bump()?;
        if t.kind == kind {
            Ok(t)
        } else {
            Err(self.expected(what, t))
        }
    }

    /// Refuses to open one more bracket or parenthesis when `open` frames already are.
    fn check_depth(&self, open: usize, at: Token) -> Result<(), PatternError> {
        if open >= self.max_depth {
            return Err(PatternError::new(
                at.start,
                format!(
                    "brackets and parentheses are nested more than {} deep",
                    self.max_depth
                ),
            ));
        }
        Ok(())
    }

    /// The whole grammar above the comparison, parsed with an explicit stack of open
    /// brackets and parentheses instead of recursion, so that the native stack use does not
    /// depend on the input: each `[` or `(` pushes a [`Frame`], each operator a vector entry.
    fn parse_pattern(&mut self) -> Result<ObservationExpr, PatternError> {
        let mut frames = vec![Frame::Observations(ObservationFrame::new(None))];
        // An operand just completed, waiting to be added to the innermost frame.
        let mut done: Option<Operand> = None;
        loop {
            let Some(operand) = done.take() else {
                // The innermost frame needs an operand: open a frame or read a comparison.
                let t = self.bump()?;
                let in_observations = matches!(frames.last(), Some(Frame::Observations(_)));
                match t.kind {
                    Tk::LBrack if in_observations => {
                        self.check_depth(frames.len().saturating_sub(1), t)?;
                        frames.push(Frame::Comparisons(ComparisonFrame::new(true)));
                    }
                    Tk::LParen if in_observations => {
                        self.check_depth(frames.len().saturating_sub(1), t)?;
                        frames.push(Frame::Observations(ObservationFrame::new(Some(t))));
                    }
                    _ if in_observations => return Err(self.expected("'[' or '('", t)),
                    Tk::LParen => {
                        self.check_depth(frames.len().saturating_sub(1), t)?;
                        frames.push(Frame::Comparisons(ComparisonFrame::new(false)));
                    }
                    Tk::Kw(Kw::Exists) => {
                        self.count_comparison(t)?;
                        let (object_type, path) = self.parse_object_path()?;
                        done = Some(Operand::Comparison(ComparisonExpr::Comparison(
                            Comparison {
                                object_type,
                                path,
                                operator: Operator::Exists,
                                negated: false,
                                value: None,
                                offset: t.start,
                            },
                        )));
                    }
                    Tk::Ident | Tk::IdentHyphen => {
                        self.count_comparison(t)?;
                        self.peeked = Some(t);
                        let c = self.parse_comparison(t.start)?;
                        done = Some(Operand::Comparison(ComparisonExpr::Comparison(c)));
                    }
                    _ => {
                        return Err(
                            self.expected("a comparison (type:property …), EXISTS or '('", t)
                        );
                    }
                }
                continue;
            };
            match (operand, frames.last_mut()) {
                (Operand::Comparison(expr), Some(Frame::Comparisons(frame))) => {
                    frame.ands.push(expr);
                    match self.peek()?.kind {
                        Tk::Kw(Kw::And) => {}
                        Tk::Kw(Kw::Or) => frame.or(),
                        _ => {
                            let bracket = frame.bracket;
                            let expr = frame.finish();
                            frames.pop();
                            if bracket {
                                self.expect(Tk::RBrack, "AND, OR or ']'")?;
                                self.observations += 1;
                                let qualifiers = self.parse_qualifiers(true)?;
                                done = Some(Operand::Observation(ObservationExpr {
                                    kind: ObservationKind::Observation(expr),
                                    qualifiers,
                                }));
                            } else {
                                self.expect(Tk::RParen, "AND, OR or ')'")?;
                                done = Some(Operand::Comparison(expr));
                            }
                            continue;
                        }
                    }
                    self.bump()?;
                }
                (Operand::Observation(expr), Some(Frame::Observations(frame))) => {
                    frame.ands.push(expr);
                    match self.peek()?.kind {
                        Tk::Kw(Kw::And) => {}
                        Tk::Kw(Kw::Or) => frame.or(),
                        Tk::Kw(Kw::FollowedBy) => frame.followed_by(),
                        _ => {
                            let open = frame.open;
                            let expr = frame.finish();
                            frames.pop();
                            if open.is_none() {
                                return Ok(expr);
                            }
                            self.expect(Tk::RParen, "AND, OR, FOLLOWEDBY, a qualifier or ')'")?;
                            let qualifiers = self.parse_qualifiers(false)?;
                            done = Some(Operand::Observation(if qualifiers.is_empty() {
                                expr
                            } else {
                                ObservationExpr {
                                    kind: ObservationKind::Group(Box::new(expr)),
                                    qualifiers,
                                }
                            }));
                            continue;
                        }
                    }
                    self.bump()?;
                }
                // An operand only ever completes inside a frame of its own kind.
                _ => {
                    return Err(PatternError::new(
                        self.lexer.pos,
                        "internal error: parser state",
                    ));
                }
            }
        }
    }

    /// The qualifiers after an observation expression. On a `[ … ]` (`direct`), each type may
    /// appear once.
    fn parse_qualifiers(&mut self, direct: bool) -> Result<Vec<Qualifier>, PatternError> {
        let mut qualifiers = Vec::new();
        let mut seen = [false; 3];
        loop {
            let t = self.peek()?;
            let (slot, name, qualifier) = match t.kind {
                Tk::Kw(Kw::Within) => {
                    self.bump()?;
                    let n = self.bump()?;
                    if !matches!(n.kind, Tk::IntPos | Tk::FloatPos) {
                        return Err(self.expected("a non-negative number of seconds", n));
                    }
                    self.expect(Tk::Kw(Kw::Seconds), "SECONDS")?;
                    if number_above(self.text(n), self.max_within_secs) {
                        return Err(PatternError::new(
                            n.start,
                            format!(
                                "WITHIN {} SECONDS is over the limit of {} seconds",
                                shown(self.text(n)),
                                self.max_within_secs
                            ),
                        ));
                    }
                    (
                        0,
                        "WITHIN",
                        Qualifier::Within(Number(self.text(n).to_owned())),
                    )
                }
                Tk::Kw(Kw::Repeats) => {
                    self.bump()?;
                    let n = self.bump()?;
                    if n.kind != Tk::IntPos {
                        return Err(self.expected("a non-negative integer", n));
                    }
                    self.expect(Tk::Kw(Kw::Times), "TIMES")?;
                    if number_above(self.text(n), self.max_repeats) {
                        return Err(PatternError::new(
                            n.start,
                            format!(
                                "REPEATS {} TIMES is over the limit of {} repetitions",
                                shown(self.text(n)),
                                self.max_repeats
                            ),
                        ));
                    }
                    (
                        1,
                        "REPEATS",
                        Qualifier::Repeats(Number(self.text(n).to_owned())),
                    )
                }
                Tk::Kw(Kw::Start) => {
                    self.bump()?;
                    let start = self.expect(Tk::Timestamp, "a timestamp t'…' after START")?;
                    self.expect(Tk::Kw(Kw::Stop), "STOP")?;
                    let stop = self.expect(Tk::Timestamp, "a timestamp t'…' after STOP")?;
                    let qualifier = Qualifier::StartStop {
                        start: self.timestamp_text(start),
                        stop: self.timestamp_text(stop),
                    };
                    (2, "START/STOP", qualifier)
                }
                _ => break,
            };
            if direct && let Some(seen) = seen.get_mut(slot) {
                if *seen {
                    return Err(PatternError::new(
                        t.start,
                        format!(
                            "a second {name} qualifier on the same observation expression \
                             (group it in parentheses to qualify it again)"
                        ),
                    ));
                }
                *seen = true;
            }
            qualifiers.push(qualifier);
        }
        Ok(qualifiers)
    }

    fn timestamp_text(&self, t: Token) -> String {
        let text = self.text(t);
        text.get(2..text.len().saturating_sub(1))
            .unwrap_or("")
            .to_owned()
    }

    fn count_comparison(&mut self, at: Token) -> Result<(), PatternError> {
        self.comparisons += 1;
        if self.comparisons > self.max_comparisons {
            return Err(PatternError::new(
                at.start,
                format!("more than {} comparisons", self.max_comparisons),
            ));
        }
        Ok(())
    }

    fn parse_comparison(&mut self, offset: usize) -> Result<Comparison, PatternError> {
        let (object_type, path) = self.parse_object_path()?;
        let negated = self.peek()?.kind == Tk::Kw(Kw::Not);
        if negated {
            self.bump()?;
        }
        let op = self.bump()?;
        let operator = match op.kind {
            Tk::Eq => Operator::Eq,
            Tk::Ne => Operator::Ne,
            Tk::Lt => Operator::Lt,
            Tk::Le => Operator::Le,
            Tk::Gt => Operator::Gt,
            Tk::Ge => Operator::Ge,
            Tk::Kw(Kw::In) => Operator::In,
            Tk::Kw(Kw::Like) => Operator::Like,
            Tk::Kw(Kw::Matches) => Operator::Matches,
            Tk::Kw(Kw::IsSubset) => Operator::IsSubset,
            Tk::Kw(Kw::IsSuperset) => Operator::IsSuperset,
            _ => {
                let what = if negated {
                    "an operator after NOT (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, \
                     ISSUPERSET)"
                } else {
                    "NOT or an operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, \
                     ISSUPERSET)"
                };
                return Err(self.expected(what, op));
            }
        };
        let value_start = self.peek()?.start;
        let (value, raw) = match operator {
            Operator::Eq | Operator::Ne => self.parse_literal(operator)?,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
                let t = self.peek()?;
                if t.kind == Tk::Bool {
                    return Err(PatternError::new(
                        t.start,
                        format!("'{operator}' cannot compare with a boolean (only = and != can)"),
                    ));
                }
                self.parse_literal(operator)?
            }
            Operator::In => self.parse_set()?,
            _ => {
                let t = self.bump()?;
                if t.kind != Tk::Str {
                    return Err(self.expected(&format!("a string literal '…' after {operator}"), t));
                }
                let raw = self.text(t);
                let text = unescape(raw);
                if operator == Operator::Matches {
                    self.check_regex(&text, t)?;
                }
                (Literal::String(text), raw.to_owned())
            }
        };
        check_hash_value(&path, &raw, value_start)?;
        Ok(Comparison {
            object_type,
            path,
            operator,
            negated,
            value: Some(value),
            offset,
        })
    }

    /// A `MATCHES` operand (unescaped) against [`crate::domain::stix::matches`]; the error
    /// points into the string literal `at`.
    fn check_regex(&mut self, regex: &str, at: Token) -> Result<(), PatternError> {
        matches::check(regex, &mut self.regex_budget).map_err(|e| {
            // The regex offset is in the unescaped text; the literal's opening quote is the
            // best place to point at in the pattern.
            PatternError::new(at.start, format!("MATCHES {}: {e}", shown(self.text(at))))
        })
    }

    /// `objectPath`: `type:first(.key | [index] | [*])*`.
    fn parse_object_path(&mut self) -> Result<(String, Vec<PathStep>), PatternError> {
        let ty = self.bump()?;
        if !matches!(ty.kind, Tk::Ident | Tk::IdentHyphen) {
            return Err(self.expected("an object type", ty));
        }
        let object_type = self.text(ty).to_owned();
        self.expect(Tk::Colon, "':' after the object type")?;
        let mut path = vec![self.parse_key("a property name after ':'")?];
        loop {
            match self.peek()?.kind {
                Tk::Dot => {
                    self.bump()?;
                    path.push(self.parse_key("a property name after '.'")?);
                }
                Tk::LBrack => {
                    self.bump()?;
                    let index = self.bump()?;
                    let step = match index.kind {
                        Tk::IntPos | Tk::IntNeg => {
                            PathStep::Index(Number(self.text(index).to_owned()))
                        }
                        Tk::Star => PathStep::AnyIndex,
                        _ => return Err(self.expected("a list index or '*'", index)),
                    };
                    self.expect(Tk::RBrack, "']' after the list index")?;
                    path.push(step);
                }
                _ => break,
            }
        }
        Ok((object_type, path))
    }

    fn parse_key(&mut self, what: &str) -> Result<PathStep, PatternError> {
        let t = self.bump()?;
        match t.kind {
            Tk::Ident => Ok(PathStep::Key(self.text(t).to_owned())),
            Tk::Str => Ok(PathStep::Key(unescape(self.text(t)))),
            Tk::IdentHyphen => Err(PatternError::new(
                t.start,
                format!(
                    "property name '{}' contains '-': quote it ('…')",
                    shown(self.text(t))
                ),
            )),
            _ => Err(self.expected(what, t)),
        }
    }

    /// A single literal (`primitiveLiteral`), with its text as written.
    fn parse_literal(&mut self, after: Operator) -> Result<(Literal, String), PatternError> {
        let t = self.bump()?;
        let raw = self.text(t);
        let literal = match t.kind {
            Tk::Str => Literal::String(unescape(raw)),
            Tk::IntPos | Tk::IntNeg => Literal::Integer(Number(raw.to_owned())),
            Tk::FloatPos | Tk::FloatNeg => Literal::Float(Number(raw.to_owned())),
            Tk::Bool => Literal::Bool(raw == "true"),
            Tk::Timestamp => Literal::Timestamp(self.timestamp_text(t)),
            Tk::Binary => Literal::Binary(decode_binary(literal_body(raw), t.start + 2)?),
            Tk::Hex => Literal::Hex(decode_hex(literal_body(raw), t.start + 2)?),
            _ => {
                let what = match after {
                    Operator::In => "a literal value in the set".to_owned(),
                    _ => format!("a literal value after '{after}'"),
                };
                return Err(self.expected(&what, t));
            }
        };
        Ok((literal, raw.to_owned()))
    }

    /// `setLiteral`: `( )` or `( literal (, literal)* )`, with its text as the validator sees
    /// it (tokens joined without blanks).
    fn parse_set(&mut self) -> Result<(Literal, String), PatternError> {
        self.expect(Tk::LParen, "'(' to open the set after IN")?;
        let mut items = Vec::new();
        let mut raw = String::from("(");
        if self.peek()?.kind == Tk::RParen {
            self.bump()?;
        } else {
            loop {
                let (item, text) = self.parse_literal(Operator::In)?;
                items.push(item);
                raw.push_str(&text);
                let sep = self.bump()?;
                match sep.kind {
                    Tk::Comma => raw.push(','),
                    Tk::RParen => break,
                    _ => return Err(self.expected("',' or ')' in the set", sep)),
                }
            }
        }
        raw.push(')');
        Ok((Literal::Set(items), raw))
    }
}

/// What is between the quotes of `b'…'` or `h'…'`.
fn literal_body(raw: &str) -> &str {
    raw.get(2..raw.len().saturating_sub(1)).unwrap_or("")
}
