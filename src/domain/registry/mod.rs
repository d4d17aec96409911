//! The provider registry (Convention art. 2, 4, 10, 12–16): providers' files, the referencing
//! lifecycle and its deadlines, satisfaction surveys, and what the public directory shows.
//! Pure: deadlines are computed from times passed in.

pub mod calendar;
pub mod directory;
pub mod file;
pub mod import;
pub mod lifecycle;
pub mod survey;
