//! Every user's personal API tokens, for administrators.

pub mod delete;
pub mod list;
