//! Domain types: what the repository stores and the routes speak about.

pub mod user;

pub use user::{NewUser, Role, User, UserCredentials, UserId};
