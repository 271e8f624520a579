pub mod list;
pub mod objects;
