//! Choosing the account a connection reads, for providers that offer several (a GA4 property,
//! an ad account): the list comes from the provider; the choice, with what reading it needs (its
//! time zone, currency, creation time), is kept on the connection and starts its backfill.
//! Choosing another account first deletes everything read from the previous one.

use allmetrics_common::AccountResponse;
use secrecy::SecretString;

use crate::auth::AuthUser;
use crate::domain::{Connection, ProviderAccount};
use crate::error::ApiError;
use crate::providers::{ProviderError, ResolvedProvider};
use crate::services::Services;
use crate::state::AppState;
use crate::tokens::{self, RefreshError};

fn provider_unavailable(provider: &ResolvedProvider, error: &dyn std::fmt::Display) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::BAD_GATEWAY,
        "provider_unavailable",
        format!(
            "{} could not list the accounts: {error}.",
            provider.provider.default_name()
        ),
    )
}

fn needs_reconnect(provider: &ResolvedProvider) -> ApiError {
    ApiError::conflict(
        "needs_reconnect",
        format!(
            "{} refused the connection's token: connect it again.",
            provider.provider.default_name()
        ),
    )
}

/// The caller's connection to `slug`, its provider, and a usable token; 400
/// `accounts_not_supported` for providers that read one account only.
async fn connection_with_token(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
) -> Result<(Connection, ResolvedProvider, SecretString), ApiError> {
    let (source, connection) = crate::lookup::user_connection(state, user, slug).await?;
    let provider = crate::lookup::enabled_source(state, &source.slug).await?.1;
    if !provider.provider.chooses_account() {
        return Err(ApiError::bad_request(
            "accounts_not_supported",
            format!(
                "{} reads the connected account itself: there is nothing to choose.",
                source.name
            ),
        ));
    }
    let token = match tokens::access_token(&state.services(), &connection).await {
        Ok(token) => token,
        Err(RefreshError::NeedsReconnect) => return Err(needs_reconnect(&provider)),
        Err(error) => return Err(provider_unavailable(&provider, &error)),
    };
    Ok((connection, provider, token))
}

fn provider_error(provider: &ResolvedProvider, error: ProviderError) -> ApiError {
    match error {
        ProviderError::Unauthorized => needs_reconnect(provider),
        other => provider_unavailable(provider, &other),
    }
}

async fn accounts(
    http: &reqwest::Client,
    provider: &ResolvedProvider,
    token: &SecretString,
) -> Result<Vec<ProviderAccount>, ApiError> {
    provider
        .provider
        .list_accounts(http, provider, token)
        .await
        .map_err(|error| provider_error(provider, error))
}

/// `GET /api/v1/connections/{slug}/accounts`.
pub async fn list(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
) -> Result<Vec<AccountResponse>, ApiError> {
    let (_, provider, token) = connection_with_token(state, user, slug).await?;
    let accounts = accounts(&state.http, &provider, &token).await?;
    Ok(accounts.iter().map(ProviderAccount::to_response).collect())
}

/// `PUT /api/v1/connections/{slug}/account`: one of the listed accounts, or 404 `unknown_account`.
pub async fn choose(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
    account_id: &str,
) -> Result<Connection, ApiError> {
    let account_id = account_id.trim();
    if account_id.is_empty() || account_id.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_account",
            "Give the id of one of the accounts `GET .../accounts` lists.",
        ));
    }
    let (connection, provider, token) = connection_with_token(state, user, slug).await?;
    let accounts = accounts(&state.http, &provider, &token).await?;
    let listed = accounts
        .iter()
        .find(|account| account.id == account_id)
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_account",
                format!("This connection cannot read an account `{account_id}`."),
            )
        })?;
    store_choice(&state.services(), &connection, &provider, &token, listed).await
}

/// Keeps the choice with its details and schedules the backfill of the (new) account.
async fn store_choice(
    services: &Services,
    connection: &Connection,
    provider: &ResolvedProvider,
    token: &SecretString,
    listed: &ProviderAccount,
) -> Result<Connection, ApiError> {
    let details = provider
        .provider
        .account_details(&services.http, provider, token, &listed.id)
        .await
        .map_err(|error| provider_error(provider, error))?;
    let account = ProviderAccount {
        name: listed.name.clone(),
        parent: listed.parent.clone().or(details.parent.clone()),
        ..details
    };
    services
        .repository
        .choose_account(connection.id, &account)
        .await?;
    let chosen = services
        .repository
        .connection_by_id(connection.id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the connection vanished")))?;
    crate::sync::schedule(services, &chosen).await?;
    tracing::info!(slug = %connection.slug, user_id = %connection.user_id, "account chosen");
    Ok(chosen)
}

/// Right after connecting: when the grant can read exactly one account, it is chosen. Anything
/// else waits for the picker (a failure here is not the connect's failure).
pub async fn choose_the_only_one(state: &AppState, user: &AuthUser, slug: &str) {
    let chosen = async {
        let (connection, provider, token) = connection_with_token(state, user, slug).await?;
        let accounts = accounts(&state.http, &provider, &token).await?;
        if let ([only], None) = (accounts.as_slice(), &connection.account) {
            store_choice(&state.services(), &connection, &provider, &token, only).await?;
        }
        Ok::<(), ApiError>(())
    };
    if let Err(error) = chosen.await {
        tracing::info!(slug, error = %error, "the accounts could not be listed after connecting");
    }
}
