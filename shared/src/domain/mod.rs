//! Domain operations that more than one caller runs (the API and the admin CLI).

pub mod organizations;
pub mod users;
