//! SOC service levels (CP SOC art. 4, 5 and Annex A): business calendars, the timer engine,
//! the levels and their delays, and the contract rules. Pure: time is passed in.

pub mod access;
pub mod calendar;
pub mod contract;
pub mod levels;
pub mod policy;
pub mod render;
pub mod report;
pub mod rules;
pub mod timer;
