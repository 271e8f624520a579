//! `/api/v1/connections*` and the connect links.

use std::future::Future;

use allmetrics_common::{
    AccountResponse, ApiKeyRequest, ChooseAccountRequest, ConnectionResponse, SyncStatus,
    UpdateConnectionRequest,
};

use super::client::{call, delete, get, patch, post, put, segment, ApiFailure, Method, Session};

/// The link that starts OAuth: a full page load, not a fetch (it redirects to the provider).
pub fn authorize_url(slug: &str) -> String {
    format!("/connect/authorize/{}", segment(slug))
}

/// `GET /api/v1/connections`.
pub fn list_connections() -> impl Future<Output = Result<Vec<ConnectionResponse>, ApiFailure>> {
    get("/api/v1/connections")
}

/// `DELETE /api/v1/connections/{slug}` -> 204.
pub fn disconnect(slug: &str) -> impl Future<Output = Result<(), ApiFailure>> {
    delete(format!("/api/v1/connections/{}", segment(slug)))
}

/// `POST /api/v1/connections/{slug}/key` -> 201.
pub fn connect_with_key(
    slug: &str,
    api_key: String,
) -> impl Future<Output = Result<ConnectionResponse, ApiFailure>> {
    post(
        format!("/api/v1/connections/{}/key", segment(slug)),
        &ApiKeyRequest { api_key },
    )
}

/// `GET /api/v1/connections/{slug}/sync`.
pub fn sync_status(slug: &str) -> impl Future<Output = Result<SyncStatus, ApiFailure>> {
    get(format!("/api/v1/connections/{}/sync", segment(slug)))
}

/// `POST /api/v1/connections/{slug}/sync` -> 202.
pub fn start_sync(slug: &str) -> impl Future<Output = Result<SyncStatus, ApiFailure>> {
    call(
        Method::Post,
        format!("/api/v1/connections/{}/sync", segment(slug)),
        None,
        Session::Required,
    )
}

/// `GET /api/v1/connections/{slug}/accounts`: the accounts (GA4 properties) the connection can
/// read. When there is exactly one and none was chosen, the server chooses it.
pub fn list_accounts(slug: &str) -> impl Future<Output = Result<Vec<AccountResponse>, ApiFailure>> {
    get(format!("/api/v1/connections/{}/accounts", segment(slug)))
}

/// `PUT /api/v1/connections/{slug}/account`: reads this account from now on (another account's
/// data is deleted first) and starts its backfill.
pub fn choose_account(
    slug: &str,
    id: String,
) -> impl Future<Output = Result<ConnectionResponse, ApiFailure>> {
    put(
        format!("/api/v1/connections/{}/account", segment(slug)),
        &ChooseAccountRequest { id },
    )
}

/// `PATCH /api/v1/connections/{slug}`: the reporting currency and the subscription settings.
pub fn update_connection(
    slug: &str,
    request: &UpdateConnectionRequest,
) -> impl Future<Output = Result<ConnectionResponse, ApiFailure>> {
    patch(format!("/api/v1/connections/{}", segment(slug)), request)
}
