//! What the providers owe the CSIRT after their missions and each year (Convention art. 3, 4,
//! 12): the REX of each service delivered through the CSIRT, the annual summary, their
//! deadlines; and the statistics the CSIRT presents at its annual meeting. Pure: the services
//! read the store and the clock and pass the facts in.

pub mod deadlines;
pub mod render;
pub mod rex;
pub mod statistics;
pub mod summary;
