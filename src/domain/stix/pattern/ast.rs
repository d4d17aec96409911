//! The syntax tree of a parsed pattern, and what its users read from it: observations with
//! their qualifiers, comparisons in pattern order, paths, operators and literal values. Numbers
//! keep the text they were written with, since the grammar puts no bound on them.

use std::fmt;

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    pub(super) root: ObservationExpr,
    pub(super) observations: usize,
    pub(super) comparisons: usize,
}

/// An observation expression, with the qualifiers applied directly to it.
///
/// Qualifiers are only ever found on [`ObservationKind::Observation`] and
/// [`ObservationKind::Group`]; the `And`, `Or` and `FollowedBy` nodes of a parsed pattern have
/// none (a parenthesised combination that is qualified becomes a `Group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationExpr {
    pub kind: ObservationKind,
    pub qualifiers: Vec<Qualifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObservationKind {
    /// `[ comparison-expression ]`
    Observation(ComparisonExpr),
    /// `( observation-expressions )` followed by qualifiers. Parentheses without qualifiers
    /// leave no node: they only group.
    Group(Box<ObservationExpr>),
    /// Two or more operands joined by `AND` (left to right).
    And(Vec<ObservationExpr>),
    /// Two or more operands joined by `OR`.
    Or(Vec<ObservationExpr>),
    /// Two or more operands joined by `FOLLOWEDBY`.
    FollowedBy(Vec<ObservationExpr>),
}

/// A qualifier on an observation expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS` (an integer or a decimal, never negative).
    Within(Number),
    /// `REPEATS n TIMES` (a non-negative integer).
    Repeats(Number),
    /// `START t'…' STOP t'…'`: the two timestamps, without the `t'` `'`.
    StartStop { start: String, stop: String },
}

/// The boolean expression inside `[ … ]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComparisonExpr {
    Comparison(Comparison),
    /// Two or more operands joined by `AND`.
    And(Vec<ComparisonExpr>),
    /// Two or more operands joined by `OR`.
    Or(Vec<ComparisonExpr>),
}

/// One comparison: `type:path [NOT] operator value`, or `EXISTS type:path`.
///
/// Two comparisons are `==` when they say the same thing, wherever they were found (the
/// `offset` is not compared).
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The object type before the `:` (`ipv4-addr`, `x-custom-type`).
    pub object_type: String,
    /// The property path after the `:`; never empty, and its first step is always a
    /// [`PathStep::Key`].
    pub path: Vec<PathStep>,
    pub operator: Operator,
    /// `NOT` before the operator.
    pub negated: bool,
    /// The right-hand side; `None` only for [`Operator::Exists`].
    pub value: Option<Literal>,
    /// Byte offset of the comparison in the pattern.
    pub offset: usize,
}

impl PartialEq for Comparison {
    fn eq(&self, other: &Self) -> bool {
        self.object_type == other.object_type
            && self.path == other.path
            && self.operator == other.operator
            && self.negated == other.negated
            && self.value == other.value
    }
}

impl Eq for Comparison {}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A property name, unquoted and unescaped (`hashes`, `SHA-256`).
    Key(String),
    /// `[n]`: a list index (may be negative).
    Index(Number),
    /// `[*]`: any list element.
    AnyIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

impl Operator {
    /// The operator as written in a pattern (`==` reads as `=`, `<>` as `!=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
            Operator::Exists => "EXISTS",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number exactly as written (`42`, `-1`, `+7`, `.5`, `-0.25`). The grammar puts no bound
/// on integers, so the text is kept and converted on request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number(pub(super) String);

impl Number {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The value as an `f64` (large integers lose precision).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// `'…'`, unescaped.
    String(String),
    Integer(Number),
    Float(Number),
    Bool(bool),
    /// `t'…'`: the timestamp text between the quotes.
    Timestamp(String),
    /// `b'…'`: the decoded bytes.
    Binary(Vec<u8>),
    /// `h'…'`: the decoded bytes.
    Hex(Vec<u8>),
    /// `( … )` after `IN`: its elements, never themselves sets.
    Set(Vec<Literal>),
}

impl Literal {
    /// The text of a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Literal::String(s) => Some(s),
            _ => None,
        }
    }
}

impl Pattern {
    /// The top of the syntax tree.
    pub fn root(&self) -> &ObservationExpr {
        &self.root
    }

    /// How many `[ … ]` observation expressions the pattern has.
    pub fn observation_count(&self) -> usize {
        self.observations
    }

    /// How many comparisons the pattern has (the length of [`Pattern::comparisons`]).
    pub fn comparison_count(&self) -> usize {
        self.comparisons
    }

    /// Every comparison, in the order they appear in the pattern.
    pub fn comparisons(&self) -> impl Iterator<Item = &Comparison> + '_ {
        let mut out = Vec::with_capacity(self.comparisons);
        let mut observations = vec![&self.root];
        let mut tests: Vec<&ComparisonExpr> = Vec::new();
        while let Some(obs) = observations.pop() {
            match &obs.kind {
                ObservationKind::Observation(expr) => {
                    tests.push(expr);
                    while let Some(test) = tests.pop() {
                        match test {
                            ComparisonExpr::Comparison(c) => out.push(c),
                            ComparisonExpr::And(v) | ComparisonExpr::Or(v) => {
                                tests.extend(v.iter().rev());
                            }
                        }
                    }
                }
                ObservationKind::Group(inner) => observations.push(inner),
                ObservationKind::And(v)
                | ObservationKind::Or(v)
                | ObservationKind::FollowedBy(v) => {
                    observations.extend(v.iter().rev());
                }
            }
        }
        out.into_iter()
    }
}
