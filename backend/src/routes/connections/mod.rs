pub mod account;
pub mod accounts;
pub mod api_key;
pub mod delete;
pub mod list;
pub mod sync;
pub mod update;
pub mod webhook;

use allmetrics_common::ConnectionResponse;

use crate::domain::Connection;
use crate::providers::registry;

/// A connection as the API shows it: `needs_account` while a provider that reads one account of
/// several waits for the choice.
pub fn connection_response(connection: &Connection) -> ConnectionResponse {
    let chooses_account =
        registry::provider(&connection.provider).is_some_and(|provider| provider.chooses_account());
    connection.to_response(chooses_account)
}
