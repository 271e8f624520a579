pub mod create_user;
pub mod list_users;
