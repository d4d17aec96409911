//! Satisfaction surveys (`policies/survey.toml`): what a victim is asked about the provider
//! that handled its case, and whether its answers count against the provider.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::registry::lifecycle::UNFAVOURABLE_SURVEYS;

/// The policy shipped in `policies/survey.toml`, compiled in so the hub always has one.
pub const SHIPPED: &str = include_str!("../../../policies/survey.toml");

/// At most this many questions: a survey a victim gives up on half-way says nothing.
pub const MAX_QUESTIONS: usize = 20;
/// The longest question text, in characters: it has to fit on a form, in two languages.
pub const MAX_QUESTION_TEXT: usize = 500;
/// The longest comment, in characters (not bytes: French takes more bytes than English).
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// Ratings run from 1 (very dissatisfied) to 5 (very satisfied).
pub const RATINGS: std::ops::RangeInclusive<u8> = 1..=5;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SurveyPolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("the survey has {0} questions; it needs 1 to {MAX_QUESTIONS}")]
    QuestionCount(usize),
    #[error("question id {0:?}: use lower-case letters, digits and _ only")]
    BadId(String),
    #[error("question id {0:?} is used twice")]
    DuplicateId(String),
    #[error("question {0}: the text is empty or longer than {MAX_QUESTION_TEXT} characters")]
    BadText(String),
    #[error("unfavourable_below = {0}: it must be between 1 and 5")]
    Threshold(f64),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("question {0} is not answered")]
    Missing(String),
    #[error("there is no question {0}")]
    Unknown(String),
    #[error("question {question}: {rating} is not a rating from 1 to 5")]
    OutOfRange { question: String, rating: u8 },
    #[error("the comment is {len} characters long; at most {max} are accepted")]
    CommentTooLong { len: usize, max: usize },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    unfavourable_below: f64,
    questions: Vec<Question>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// What answers and stored results refer to: stable once answered.
    pub id: String,
    /// What the victim reads, in French and in English.
    pub text: String,
}

/// The checked policy: questions in the order they are asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SurveyPolicy {
    pub questions: Vec<Question>,
    /// An average strictly below this is unfavourable.
    pub unfavourable_below: f64,
}

impl SurveyPolicy {
    pub fn parse(toml: &str) -> Result<Self, SurveyPolicyError> {
        let file: PolicyFile = toml::from_str(toml).map_err(|e| {
            SurveyPolicyError::Parse(
                e.to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        if !(1..=MAX_QUESTIONS).contains(&file.questions.len()) {
            return Err(SurveyPolicyError::QuestionCount(file.questions.len()));
        }
        let mut seen = BTreeSet::new();
        for q in &file.questions {
            let well_formed = !q.id.is_empty()
                && q.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !well_formed {
                return Err(SurveyPolicyError::BadId(q.id.clone()));
            }
            if !seen.insert(q.id.as_str()) {
                return Err(SurveyPolicyError::DuplicateId(q.id.clone()));
            }
            if q.text.trim().is_empty() || q.text.chars().count() > MAX_QUESTION_TEXT {
                return Err(SurveyPolicyError::BadText(q.id.clone()));
            }
        }
        // NaN fails the range test too.
        let low = f64::from(*RATINGS.start());
        let high = f64::from(*RATINGS.end());
        if !(low..=high).contains(&file.unfavourable_below) {
            return Err(SurveyPolicyError::Threshold(file.unfavourable_below));
        }
        Ok(Self {
            questions: file.questions,
            unfavourable_below: file.unfavourable_below,
        })
    }
}

/// A victim's answers: a rating for each question, by question id, and a comment (empty for
/// none).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub ratings: BTreeMap<String, u8>,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The mean of the ratings, every question weighing the same.
    pub average: f64,
    pub unfavourable: bool,
}

/// The score of complete, well-formed answers: every question of `policy` rated once from 1
/// to 5, nothing else rated, the comment within [`MAX_COMMENT_CHARS`]. Partial answers are
/// refused rather than scored: an average over the questions a victim chose to answer would
/// not compare with the others.
pub fn score(policy: &SurveyPolicy, answers: &Answers) -> Result<Score, AnswerError> {
    // A map holds each question once; what is left to check is that they are the policy's.
    if let Some(unknown) = answers
        .ratings
        .keys()
        .find(|id| !policy.questions.iter().any(|q| &q.id == *id))
    {
        return Err(AnswerError::Unknown(unknown.clone()));
    }
    let mut sum: u32 = 0;
    for q in &policy.questions {
        let rating = *answers
            .ratings
            .get(&q.id)
            .ok_or_else(|| AnswerError::Missing(q.id.clone()))?;
        if !RATINGS.contains(&rating) {
            return Err(AnswerError::OutOfRange {
                question: q.id.clone(),
                rating,
            });
        }
        sum += u32::from(rating);
    }
    let len = answers.comment.chars().count();
    if len > MAX_COMMENT_CHARS {
        return Err(AnswerError::CommentTooLong {
            len,
            max: MAX_COMMENT_CHARS,
        });
    }
    // Division is correctly rounded and so is the policy's decimal: an average that is exactly
    // the threshold (10 / 4 against 2.5, 13 / 5 against 2.6) compares equal, not a hair below.
    // The count is at most MAX_QUESTIONS, so the conversion is exact.
    let count = u32::try_from(policy.questions.len()).unwrap_or(u32::MAX);
    let average = f64::from(sum) / f64::from(count);
    Ok(Score {
        average,
        unfavourable: average < policy.unfavourable_below,
    })
}

/// A survey as the registry's rules count it: the case it was sent for, and its answer if one
/// came.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome<'a> {
    pub case: &'a str,
    pub answered_at: Option<OffsetDateTime>,
    /// The answers' average, once answered.
    pub average: Option<f64>,
    /// Answered, and unfavourable.
    pub unfavourable: bool,
}

/// The unfavourable surveys that count towards de-referencing (art. 10, 16): answered at or
/// after `since` (the referencing, or the last cancelled procedure, which wipes the slate),
/// one per case: a beneficiary has one voice, however many links it was sent.
pub fn unfavourable_since(surveys: &[Outcome<'_>], since: OffsetDateTime) -> u32 {
    let cases: BTreeSet<&str> = surveys
        .iter()
        .filter(|s| s.unfavourable && s.answered_at.is_some_and(|at| at >= since))
        .map(|s| s.case)
        .collect();
    u32::try_from(cases.len()).unwrap_or(u32::MAX)
}

/// Whether that many unfavourable surveys open the de-referencing procedure.
pub fn opens_dereferencing(unfavourable: u32) -> bool {
    unfavourable >= UNFAVOURABLE_SURVEYS
}

/// A provider's surveys in aggregate, as the provider itself may see them: counts and the
/// average, never an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SurveySummary {
    pub issued: u32,
    pub answered: u32,
    /// Answered unfavourably, over the whole history (what de-referencing counts is
    /// [`unfavourable_since`]).
    pub unfavourable: u32,
    /// Average of the answered surveys' scores.
    pub average: Option<f64>,
}

pub fn summarise(surveys: &[Outcome<'_>]) -> SurveySummary {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let answered: Vec<&Outcome<'_>> = surveys.iter().filter(|s| s.answered_at.is_some()).collect();
    let scores: Vec<f64> = answered.iter().filter_map(|s| s.average).collect();
    SurveySummary {
        issued: count(surveys.len()),
        answered: count(answered.len()),
        unfavourable: count(answered.iter().filter(|s| s.unfavourable).count()),
        average: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn answers(ratings: &[(&str, u8)]) -> Answers {
        Answers {
            ratings: ratings.iter().map(|(q, r)| ((*q).to_owned(), *r)).collect(),
            comment: String::new(),
        }
    }

    fn all(policy: &SurveyPolicy, rating: u8) -> Answers {
        Answers {
            ratings: policy
                .questions
                .iter()
                .map(|q| (q.id.clone(), rating))
                .collect(),
            comment: String::new(),
        }
    }

    fn policy(questions: &[&str], threshold: f64) -> String {
        let mut text = format!("unfavourable_below = {threshold:?}\n");
        for id in questions {
            text.push_str(&format!(
                "[[questions]]\nid = \"{id}\"\ntext = \"Q {id}\"\n"
            ));
        }
        text
    }

    #[test]
    fn the_shipped_policy_parses() {
        let policy = SurveyPolicy::parse(SHIPPED).unwrap();
        let ids: Vec<_> = policy.questions.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "responsiveness",
                "analysis_quality",
                "communication",
                "result",
                "overall"
            ]
        );
        assert_eq!(policy.unfavourable_below, 2.5);
        // Both languages on every question.
        for q in &policy.questions {
            assert!(q.text.contains(" / "), "{}", q.text);
        }
    }

    #[test]
    fn scoring() {
        let policy = SurveyPolicy::parse(SHIPPED).unwrap();
        let got = score(&policy, &all(&policy, 5)).unwrap();
        assert_eq!(
            got,
            Score {
                average: 5.0,
                unfavourable: false
            }
        );
        let got = score(&policy, &all(&policy, 1)).unwrap();
        assert_eq!(
            got,
            Score {
                average: 1.0,
                unfavourable: true
            }
        );
        let mixed = answers(&[
            ("responsiveness", 4),
            ("analysis_quality", 3),
            ("communication", 2),
            ("result", 5),
            ("overall", 4),
        ]);
        let got = score(&policy, &mixed).unwrap();
        assert_eq!(got.average, 3.6);
        assert!(!got.unfavourable);
        // 12 / 5 = 2.4: below.
        let low = answers(&[
            ("responsiveness", 2),
            ("analysis_quality", 2),
            ("communication", 3),
            ("result", 2),
            ("overall", 3),
        ]);
        let got = score(&policy, &low).unwrap();
        assert_eq!(got.average, 2.4);
        assert!(got.unfavourable);
    }

    #[test]
    fn exactly_the_threshold_is_favourable() {
        let two = SurveyPolicy::parse(&policy(&["a", "b"], 2.5)).unwrap();
        let at = score(&two, &answers(&[("a", 2), ("b", 3)])).unwrap();
        assert_eq!(at.average, 2.5);
        assert!(!at.unfavourable);
        let below = score(&two, &answers(&[("a", 2), ("b", 2)])).unwrap();
        assert!(below.unfavourable);
        // A threshold that is not a binary fraction: 13 / 5 against 2.6.
        let five = SurveyPolicy::parse(&policy(&["a", "b", "c", "d", "e"], 2.6)).unwrap();
        let at = score(
            &five,
            &answers(&[("a", 3), ("b", 3), ("c", 3), ("d", 2), ("e", 2)]),
        )
        .unwrap();
        assert!(!at.unfavourable, "{}", at.average);
        // Three questions, 7 / 3 against 7 / 3 written out as far as a double goes.
        let three = SurveyPolicy::parse(&policy(&["a", "b", "c"], 7.0 / 3.0)).unwrap();
        let at = score(&three, &answers(&[("a", 2), ("b", 2), ("c", 3)])).unwrap();
        assert!(!at.unfavourable, "{}", at.average);
    }

    #[test]
    fn incomplete_or_foreign_answers_are_refused() {
        let policy = SurveyPolicy::parse(SHIPPED).unwrap();
        let mut missing = all(&policy, 4);
        missing.ratings.remove("result");
        assert_eq!(
            score(&policy, &missing),
            Err(AnswerError::Missing("result".into()))
        );
        assert_eq!(
            score(&policy, &Answers::default()),
            Err(AnswerError::Missing("responsiveness".into()))
        );
        let mut unknown = all(&policy, 4);
        unknown.ratings.insert("price".into(), 1);
        assert_eq!(
            score(&policy, &unknown),
            Err(AnswerError::Unknown("price".into()))
        );
        for rating in [0, 6, 255] {
            let mut out = all(&policy, 4);
            out.ratings.insert("overall".into(), rating);
            assert_eq!(
                score(&policy, &out),
                Err(AnswerError::OutOfRange {
                    question: "overall".into(),
                    rating
                })
            );
        }
    }

    #[test]
    fn the_comment_is_bounded_in_characters() {
        let policy = SurveyPolicy::parse(SHIPPED).unwrap();
        let mut a = all(&policy, 4);
        // 2,000 characters, 4,000 bytes: accepted.
        a.comment = "é".repeat(MAX_COMMENT_CHARS);
        score(&policy, &a).unwrap();
        a.comment.push('x');
        assert_eq!(
            score(&policy, &a),
            Err(AnswerError::CommentTooLong {
                len: MAX_COMMENT_CHARS + 1,
                max: MAX_COMMENT_CHARS
            })
        );
    }

    #[test]
    fn answers_deserialize_strictly() {
        let a: Answers = serde_json::from_str(r#"{"ratings":{"a":3}}"#).unwrap();
        assert_eq!(a.comment, "");
        assert!(serde_json::from_str::<Answers>(r#"{"ratings":{},"extra":1}"#).is_err());
        // A rating that is not a small integer does not even parse.
        assert!(serde_json::from_str::<Answers>(r#"{"ratings":{"a":-1}}"#).is_err());
        assert!(serde_json::from_str::<Answers>(r#"{"ratings":{"a":2.5}}"#).is_err());
    }

    #[test]
    fn bad_policies_are_refused() {
        assert!(matches!(
            SurveyPolicy::parse("unfavourable_below = 2.5\nquestions = []\n"),
            Err(SurveyPolicyError::QuestionCount(0))
        ));
        let many: Vec<String> = (0..=MAX_QUESTIONS).map(|i| format!("q{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(
            SurveyPolicy::parse(&policy(&many, 2.5)),
            Err(SurveyPolicyError::QuestionCount(MAX_QUESTIONS + 1))
        );
        SurveyPolicy::parse(&policy(&many[..MAX_QUESTIONS], 2.5)).unwrap();
        for id in ["", "Overall", "over all", "overall-2", "é"] {
            assert_eq!(
                SurveyPolicy::parse(&policy(&[id], 2.5)),
                Err(SurveyPolicyError::BadId(id.into())),
                "{id:?}"
            );
        }
        assert_eq!(
            SurveyPolicy::parse(&policy(&["a", "b", "a"], 2.5)),
            Err(SurveyPolicyError::DuplicateId("a".into()))
        );
        for threshold in [0.0, 0.99, 5.01, 10.0, -2.5] {
            assert_eq!(
                SurveyPolicy::parse(&policy(&["a"], threshold)),
                Err(SurveyPolicyError::Threshold(threshold))
            );
        }
        assert!(matches!(
            SurveyPolicy::parse("unfavourable_below = nan\n[[questions]]\nid = \"a\"\ntext = \"A\"\n"),
            Err(SurveyPolicyError::Threshold(t)) if t.is_nan()
        ));
        SurveyPolicy::parse(&policy(&["a"], 1.0)).unwrap();
        SurveyPolicy::parse(&policy(&["a"], 5.0)).unwrap();
        let blank = "unfavourable_below = 2.5\n[[questions]]\nid = \"a\"\ntext = \"  \"\n";
        assert_eq!(
            SurveyPolicy::parse(blank),
            Err(SurveyPolicyError::BadText("a".into()))
        );
        let long = format!(
            "unfavourable_below = 2.5\n[[questions]]\nid = \"a\"\ntext = \"{}\"\n",
            "x".repeat(MAX_QUESTION_TEXT + 1)
        );
        assert_eq!(
            SurveyPolicy::parse(&long),
            Err(SurveyPolicyError::BadText("a".into()))
        );
        // Unknown settings, missing settings, wrong types.
        for text in [
            format!("{}colour = \"blue\"\n", policy(&["a"], 2.5)),
            "[[questions]]\nid = \"a\"\ntext = \"A\"\n".to_owned(),
            "unfavourable_below = 2.5\n".to_owned(),
            "unfavourable_below = \"low\"\n[[questions]]\nid = \"a\"\ntext = \"A\"\n".to_owned(),
            "unfavourable_below = 2.5\n[[questions]]\nid = \"a\"\ntext = \"A\"\nweight = 2\n"
                .to_owned(),
            "not toml at all".to_owned(),
        ] {
            assert!(
                matches!(SurveyPolicy::parse(&text), Err(SurveyPolicyError::Parse(_))),
                "{text}"
            );
        }
    }

    mod counting {
        use super::super::*;
        use time::macros::datetime;

        const SINCE: OffsetDateTime = datetime!(2026-03-01 0:00 UTC);

        fn answered(case: &str, at: OffsetDateTime, unfavourable: bool) -> Outcome<'_> {
            Outcome {
                case,
                answered_at: Some(at),
                average: Some(if unfavourable { 1.5 } else { 4.5 }),
                unfavourable,
            }
        }

        fn open(case: &str) -> Outcome<'_> {
            Outcome {
                case,
                answered_at: None,
                average: None,
                unfavourable: false,
            }
        }

        #[test]
        fn one_voice_per_case_since_the_slate_was_wiped() {
            let after = SINCE + time::Duration::days(1);
            let surveys = [
                answered("case-1", after, true),
                // Two links for one case, both answered: one voice.
                answered("case-2", after, true),
                answered("case-2", after, true),
                // Before the referencing or the cancelled procedure: wiped.
                answered("case-3", SINCE - time::Duration::seconds(1), true),
                // Favourable, or not answered: not counted.
                answered("case-4", after, false),
                open("case-5"),
            ];
            assert_eq!(unfavourable_since(&surveys, SINCE), 2);
            // At the very instant counts.
            assert_eq!(
                unfavourable_since(&[answered("case-6", SINCE, true)], SINCE),
                1
            );
            assert_eq!(unfavourable_since(&[], SINCE), 0);
        }

        #[test]
        fn three_open_the_procedure() {
            assert!(!opens_dereferencing(UNFAVOURABLE_SURVEYS - 1));
            assert!(opens_dereferencing(UNFAVOURABLE_SURVEYS));
            assert!(opens_dereferencing(UNFAVOURABLE_SURVEYS + 1));
            assert_eq!(UNFAVOURABLE_SURVEYS, 3);
            let at = SINCE + time::Duration::days(1);
            let two = [answered("a", at, true), answered("b", at, true)];
            assert!(!opens_dereferencing(unfavourable_since(&two, SINCE)));
            let three = [two[0], two[1], answered("c", at, true)];
            assert!(opens_dereferencing(unfavourable_since(&three, SINCE)));
        }

        #[test]
        fn the_summary_counts_every_answer() {
            let at = SINCE - time::Duration::days(30);
            let surveys = [
                answered("a", at, true),
                answered("a", at, true),
                answered("b", at, false),
                open("c"),
            ];
            assert_eq!(
                summarise(&surveys),
                SurveySummary {
                    issued: 4,
                    answered: 3,
                    unfavourable: 2,
                    average: Some((1.5 + 1.5 + 4.5) / 3.0),
                }
            );
            assert_eq!(summarise(&[]), SurveySummary::default());
        }
    }
}
