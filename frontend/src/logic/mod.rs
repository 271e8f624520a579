//! Pure logic of the web app: no browser APIs, so every function here is unit-tested on the host
//! (`cargo test -p frontend`).

pub mod access;
pub mod accounts;
pub mod csv;
pub mod dates;
pub mod format;
pub mod register;
pub mod summary;
pub mod url;
pub mod window;
