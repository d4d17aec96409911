//! Writing a syntax tree back as a pattern: text that parses back to the same tree, with
//! parentheses only where precedence needs them and property names quoted only where they
//! must be, so that a pattern relais rewrites reads like one a person wrote.

use std::fmt;

use super::ast::{
    Comparison, ComparisonExpr, Literal, ObservationExpr, ObservationKind, PathStep, Pattern,
    Qualifier,
};
use super::lexer::keyword;
use super::literal::encode_binary;

impl Comparison {
    /// The property path as written in a pattern, without the object type: `value`,
    /// `hashes.'SHA-256'`, `extensions.'windows-pebinary-ext'.sections[*].entropy`.
    pub fn property_path(&self) -> String {
        let mut out = String::new();
        for (i, step) in self.path.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        out.push('.');
                    }
                    if is_plain_identifier(k) {
                        out.push_str(k);
                    } else {
                        push_quoted(&mut out, k);
                    }
                }
                PathStep::Index(n) => {
                    out.push('[');
                    out.push_str(n.as_str());
                    out.push(']');
                }
                PathStep::AnyIndex => out.push_str("[*]"),
            }
        }
        out
    }
}

/// A property name that can be written without quotes.
fn is_plain_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && keyword(s).is_none()
        && s != "true"
        && s != "false"
}

/// Appends `s` as a pattern string literal: quoted with `'`, and `'` and `\` escaped with `\`
/// (the only two escapes the grammar has; every other character stands for itself).
pub fn push_quoted(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, joiner, wrap): (&[ObservationExpr], &str, fn(&ObservationKind) -> bool) =
            match &self.kind {
                ObservationKind::Observation(expr) => {
                    write!(f, "[{expr}]")?;
                    return write_qualifiers(f, &self.qualifiers);
                }
                ObservationKind::Group(inner) => {
                    write!(f, "({inner})")?;
                    return write_qualifiers(f, &self.qualifiers);
                }
                ObservationKind::And(v) => (v, " AND ", |k| {
                    matches!(
                        k,
                        ObservationKind::And(_)
                            | ObservationKind::Or(_)
                            | ObservationKind::FollowedBy(_)
                    )
                }),
                ObservationKind::Or(v) => (v, " OR ", |k| {
                    matches!(k, ObservationKind::Or(_) | ObservationKind::FollowedBy(_))
                }),
                ObservationKind::FollowedBy(v) => (v, " FOLLOWEDBY ", |k| {
                    matches!(k, ObservationKind::FollowedBy(_))
                }),
            };
        let qualified = !self.qualifiers.is_empty();
        if qualified {
            f.write_str("(")?;
        }
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            if wrap(&operand.kind) && operand.qualifiers.is_empty() {
                write!(f, "({operand})")?;
            } else {
                write!(f, "{operand}")?;
            }
        }
        if qualified {
            f.write_str(")")?;
            write_qualifiers(f, &self.qualifiers)?;
        }
        Ok(())
    }
}

fn write_qualifiers(f: &mut fmt::Formatter<'_>, qualifiers: &[Qualifier]) -> fmt::Result {
    qualifiers.iter().try_for_each(|q| write!(f, " {q}"))
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {n} SECONDS"),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop { start, stop } => write!(f, "START t'{start}' STOP t'{stop}'"),
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, joiner, wrap_or) = match self {
            ComparisonExpr::Comparison(c) => return c.fmt(f),
            ComparisonExpr::And(v) => (v, " AND ", true),
            ComparisonExpr::Or(v) => (v, " OR ", false),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            let wrap = match operand {
                ComparisonExpr::Comparison(_) => false,
                ComparisonExpr::And(_) => wrap_or,
                ComparisonExpr::Or(_) => true,
            };
            if wrap {
                write!(f, "({operand})")?;
            } else {
                write!(f, "{operand}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.property_path();
        match &self.value {
            None => write!(f, "EXISTS {}:{path}", self.object_type),
            Some(value) => {
                let not = if self.negated { "NOT " } else { "" };
                write!(
                    f,
                    "{}:{path} {not}{} {value}",
                    self.object_type, self.operator
                )
            }
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => {
                let mut out = String::with_capacity(s.len() + 2);
                push_quoted(&mut out, s);
                f.write_str(&out)
            }
            Literal::Integer(n) | Literal::Float(n) => n.fmt(f),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "t'{t}'"),
            Literal::Binary(bytes) => write!(f, "b'{}'", encode_binary(bytes)),
            Literal::Hex(bytes) => write!(f, "h'{}'", hex::encode(bytes)),
            Literal::Set(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_str(")")
            }
        }
    }
}
