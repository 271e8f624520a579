pub mod api_key;
pub mod delete;
pub mod list;
pub mod sync;
