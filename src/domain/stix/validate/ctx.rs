//! What every check writes into while one object is validated: the problems found so far (none
//! is fatal to the others) and the bounds the checks run under. The engine and the
//! type-specific rules share it, so that a rule of the table can report like the engine does.

use super::error::ValidationError;
use crate::domain::stix::pattern::PatternLimits;
use crate::domain::stix::pointer::child;

pub(super) struct Ctx<'a> {
    pub(super) errors: Vec<ValidationError>,
    pub(super) pattern_limits: &'a PatternLimits,
}

impl Ctx<'_> {
    pub(super) fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(ValidationError::new(path, message));
    }

    pub(super) fn missing(&mut self, name: &str) {
        self.error(child("", name), "required property is missing");
    }
}
