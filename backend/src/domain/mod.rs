//! Domain types: what the repository stores and the routes speak about.

pub mod session;
pub mod user;

pub use session::{NewRefreshToken, RefreshTokenRecord};
pub use user::{NewUser, Role, User, UserCredentials, UserId};
