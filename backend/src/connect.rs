//! Connecting data sources: the OAuth authorization (state + PKCE), the callback (code exchange,
//! encrypted storage), API-key connections, choosing the account to read, and disconnecting.
//! Routes stay thin and call these; token upkeep is in `tokens.rs`.

use allmetrics_subscriptions::MetricKind;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::session::hash_token;
use crate::auth::AuthUser;
use crate::domain::{AuthKind, Connection, DataSource, NewConnection, OAuthState, UserId};
use crate::error::ApiError;
use crate::lookup::{enabled_source, user_connection};
use crate::providers::oauth::{self, Grant, TokenError};
use crate::providers::{registry, Disconnecting, ProviderError, ResolvedProvider};
use crate::secrets::random_token;
use crate::state::AppState;
use crate::tokens::{expires_at, token_context};

/// How long a user has to approve at the provider.
pub const STATE_TTL_SECS: i64 = 10 * 60;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The context a pending authorization's PKCE verifier is encrypted under.
fn state_context(state_hash: &str) -> String {
    format!("oauth_state/{state_hash}")
}

fn not_configured(source: &DataSource) -> ApiError {
    ApiError::conflict(
        "source_not_configured",
        format!(
            "{} is not configured on this server: an administrator must set its client \
             credentials (APP_PROVIDERS__{}__CLIENT_ID and __CLIENT_SECRET).",
            source.name,
            source.slug.to_ascii_uppercase()
        ),
    )
}

/// Starts an authorization: a random single-use `state` bound to the user and the source (stored
/// hashed, 10 minutes), a PKCE verifier where the provider takes one; returns the provider URL.
pub async fn begin(state: &AppState, user: &AuthUser, slug: &str) -> Result<String, ApiError> {
    let (source, provider) = enabled_source(state, slug).await?;
    if !provider.configured() {
        return Err(not_configured(&source));
    }
    let raw_state = random_token(32).map_err(ApiError::internal)?;
    let state_hash = hash_token(&raw_state);
    let (url, verifier) = oauth::authorize_url(&provider, &raw_state)
        .map_err(|error| ApiError::internal(anyhow::anyhow!(error)))?;
    let pkce_verifier_enc = verifier
        .map(|verifier| {
            state
                .cipher
                .encrypt(verifier.expose_secret(), &state_context(&state_hash))
        })
        .transpose()
        .map_err(ApiError::internal)?;
    state.repository.purge_expired_oauth_states(now()).await?;
    state
        .repository
        .create_oauth_state(OAuthState {
            state_hash,
            user_id: user.id,
            slug: source.slug.clone(),
            pkce_verifier_enc,
            redirect_uri: provider.redirect_uri.clone(),
            expires_at: now() + STATE_TTL_SECS,
        })
        .await?;
    tracing::info!(user_id = %user.id, slug, "authorization started");
    Ok(url)
}

/// The provider's redirect back to us.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` sent to the provider.
    pub state: Option<String>,
    /// Set instead of `code` when the user declined or the provider failed (`access_denied`).
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Granted scopes, as some providers (Stripe) echo them.
    pub scope: Option<String>,
}

pub enum CallbackOutcome {
    Connected,
    /// The provider sent an error (the user declined): nothing is stored.
    Declined {
        code: String,
    },
}

fn invalid_state() -> ApiError {
    ApiError::bad_request(
        "invalid_state",
        "This authorization is unknown, expired or already used. Start connecting again.",
    )
}

/// A provider's error code, reduced to a safe `snake_case` word for the redirect.
fn sanitize_code(code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect();
    if code.is_empty() {
        "provider_error".into()
    } else {
        code.to_ascii_lowercase()
    }
}

pub fn token_exchange_error(provider: &ResolvedProvider, error: &TokenError) -> ApiError {
    let name = provider.provider.default_name();
    let message = match error {
        TokenError::Refused { code, .. } => {
            format!("{name} refused to complete the connection ({code}). Start connecting again.")
        }
        TokenError::Provider(ProviderError::Timeout(_)) => {
            format!("{name} did not answer in time. Try connecting again in a moment.")
        }
        TokenError::Provider(ProviderError::Unreachable(_)) => {
            format!("{name} could not be reached. Try connecting again in a moment.")
        }
        TokenError::Provider(other) => {
            format!("{name} answered in a way allmetrics does not understand ({other}).")
        }
    };
    ApiError::new(
        actix_web::http::StatusCode::BAD_GATEWAY,
        "token_exchange_failed",
        message,
    )
}

/// Completes an authorization. The state is burned whatever happens next; a declined or failed
/// authorization stores nothing.
pub async fn complete(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
    params: CallbackParams,
) -> Result<CallbackOutcome, ApiError> {
    let taken = match params.state.as_deref().filter(|value| !value.is_empty()) {
        Some(raw) => state.repository.take_oauth_state(&hash_token(raw)).await?,
        None => None,
    };
    let pending = taken
        .filter(|pending| pending.expires_at > now())
        .filter(|pending| pending.slug == slug)
        .filter(|pending| pending.user_id == user.id);
    if let Some(code) = params.error.as_deref() {
        tracing::info!(user_id = %user.id, slug, error = %sanitize_code(code), "the provider returned an error");
        return Ok(CallbackOutcome::Declined {
            code: sanitize_code(code),
        });
    }
    let pending = pending.ok_or_else(invalid_state)?;
    let code = params
        .code
        .filter(|code| !code.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing_code", "The provider sent no code."))?;
    let (source, mut provider) = enabled_source(state, slug).await?;
    // The token request must repeat the exact redirect URI of the authorization.
    provider.redirect_uri = pending.redirect_uri.clone();
    let verifier = pending
        .pkce_verifier_enc
        .as_deref()
        .map(|stored| {
            state
                .cipher
                .decrypt(stored, &state_context(&pending.state_hash))
        })
        .transpose()
        .map_err(ApiError::internal)?;
    let grant = oauth::exchange_code(&state.http, &provider, &code, verifier)
        .await
        .map_err(|error| {
            tracing::warn!(slug, error = %error, "the code exchange failed");
            token_exchange_error(&provider, &error)
        })?;
    let grant = provider
        .provider
        .complete_grant(&state.http, &provider, grant)
        .await
        .map_err(|error| {
            tracing::warn!(slug, error = %error, "completing the grant failed");
            token_exchange_error(&provider, &TokenError::Provider(error))
        })?;
    let access_token = grant.access_token.clone();
    let connection = store_grant(state, user.id, &source, grant).await?;
    tracing::info!(user_id = %user.id, slug, "connected");
    if let Err(error) = crate::webhooks::create_at_provider(
        &state.services(),
        &provider,
        &connection,
        &access_token,
    )
    .await
    {
        tracing::warn!(error = %error, "could not create the connection's webhook endpoint");
    }
    if provider.provider.chooses_account() {
        crate::accounts::choose_the_only_one(state, user, slug).await;
    }
    Ok(CallbackOutcome::Connected)
}

async fn store_grant(
    state: &AppState,
    user: UserId,
    source: &DataSource,
    grant: Grant,
) -> Result<Connection, ApiError> {
    let encrypt = |value: &SecretString, field: &str| {
        state
            .cipher
            .encrypt(
                value.expose_secret(),
                &token_context(user, &source.slug, field),
            )
            .map_err(ApiError::internal)
    };
    let connection = NewConnection {
        user_id: user,
        data_source_id: source.id,
        auth_kind: AuthKind::OAuth,
        account_id: grant.account_id.clone(),
        access_token_enc: encrypt(&grant.access_token, "access")?,
        refresh_token_enc: grant
            .refresh_token
            .as_ref()
            .map(|token| encrypt(token, "refresh"))
            .transpose()?,
        expires_at: expires_at(&grant),
        scopes: grant.scopes.join(" "),
        token_response: grant.response_without_secrets,
    };
    let subscriptions = registry::provider(&source.provider)
        .is_some_and(|provider| provider.subscription_objects().is_some());
    save_connection(state, connection, None, subscriptions).await
}

/// Whether a reconnect reads the same provider account as the connection it replaces. An
/// account the provider does not name is the same only when nothing says otherwise: the same
/// OAuth grant kind (the chosen property or ad account stays), or the very same API key.
fn same_account(
    previous: &Connection,
    next: &NewConnection,
    previous_key: Option<SecretString>,
    next_key: Option<&SecretString>,
) -> bool {
    match (&previous.account_id, &next.account_id) {
        (Some(before), Some(after)) => before == after,
        (None, None) => match (previous_key, next_key) {
            (Some(before), Some(after)) => before.expose_secret() == after.expose_secret(),
            _ => previous.auth_kind == AuthKind::OAuth && next.auth_kind == AuthKind::OAuth,
        },
        _ => false,
    }
}

/// Stores a (re)connection and schedules its sync. Connecting another account in place of the
/// previous one first forgets everything synced from the previous one: one connection never
/// mixes two accounts' data. `api_key` is the new key of an API-key connection. A first
/// connection of a source that bills `subscriptions` brings its "Subscriptions" dashboard.
async fn save_connection(
    state: &AppState,
    connection: NewConnection,
    api_key: Option<&SecretString>,
    subscriptions: bool,
) -> Result<Connection, ApiError> {
    let previous = state
        .repository
        .connection(connection.user_id, connection.data_source_id)
        .await?;
    if let Some(previous) = &previous {
        let previous_key = (previous.auth_kind == AuthKind::ApiKey)
            .then(|| {
                state.cipher.decrypt(
                    &previous.access_token_enc,
                    &token_context(previous.user_id, &previous.slug, "access"),
                )
            })
            .and_then(Result::ok);
        if !same_account(previous, &connection, previous_key, api_key) {
            state.repository.reset_sync(previous.id).await?;
        }
    }
    let saved = state.repository.upsert_connection(connection).await?;
    crate::sync::schedule(&state.services(), &saved).await?;
    if previous.is_none() && subscriptions {
        subscriptions_dashboard(state, &saved).await?;
    }
    Ok(saved)
}

/// The metrics of the "Subscriptions" dashboard a Stripe-compatible source brings: name, kind.
const SUBSCRIPTION_DASHBOARD: [(&str, MetricKind); 4] = [
    ("MRR", MetricKind::Mrr),
    ("MRR movements", MetricKind::MrrMovements),
    ("Customer churn rate", MetricKind::CustomerChurnRate),
    ("ARPU", MetricKind::Arpu),
];

/// Makes the user's "Subscriptions" dashboard (MRR, its movements, churn and ARPU over 90 days)
/// for this connection's source, unless they have one by that name already.
async fn subscriptions_dashboard(
    state: &AppState,
    connection: &Connection,
) -> Result<(), ApiError> {
    let name = "Subscriptions";
    let dashboards = state.repository.list_dashboards(connection.user_id).await?;
    if dashboards.iter().any(|dashboard| dashboard.name == name) {
        return Ok(());
    }
    let mut metric_ids = Vec::new();
    for (metric_name, kind) in SUBSCRIPTION_DASHBOARD {
        let definition =
            crate::domain::MetricDefinition::subscription(metric_name, &connection.slug, kind, "");
        let metric = state
            .repository
            .create_metric(connection.user_id, &definition)
            .await?;
        metric_ids.push(metric.id);
    }
    state
        .repository
        .create_dashboard(connection.user_id, name, &metric_ids, 90)
        .await?;
    Ok(())
}

/// Connects with an API key (Stripe's restricted keys): checked with one read call, then stored
/// encrypted like a token.
pub async fn connect_with_api_key(
    state: &AppState,
    user: &AuthUser,
    slug: &str,
    api_key: SecretString,
) -> Result<Connection, ApiError> {
    let (source, provider) = enabled_source(state, slug).await?;
    if !provider.provider.supports_api_key() {
        return Err(ApiError::bad_request(
            "api_key_not_supported",
            format!("{} connects through OAuth only.", source.name),
        ));
    }
    // Each check asks the provider: not a free oracle of which keys are valid.
    state.auth.key_checks.check(user.id.0)?;
    let key = api_key.expose_secret();
    if key.is_empty() || key.len() > 255 || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::bad_request(
            "invalid_api_key",
            "This is not an API key.",
        ));
    }
    let account_id = match provider
        .provider
        .verify_api_key(&state.http, &provider, &api_key)
        .await
    {
        Ok(account_id) => account_id,
        Err(ProviderError::Unauthorized) => {
            return Err(ApiError::bad_request(
                "invalid_api_key",
                format!("{} refused this key.", source.name),
            ))
        }
        Err(error) => {
            return Err(ApiError::new(
                actix_web::http::StatusCode::BAD_GATEWAY,
                "provider_unavailable",
                format!("The key could not be checked: {error}."),
            ))
        }
    };
    let connection = NewConnection {
        user_id: user.id,
        data_source_id: source.id,
        auth_kind: AuthKind::ApiKey,
        account_id,
        access_token_enc: state
            .cipher
            .encrypt(key, &token_context(user.id, &source.slug, "access"))
            .map_err(ApiError::internal)?,
        refresh_token_enc: None,
        expires_at: None,
        scopes: String::new(),
        token_response: serde_json::json!({}),
    };
    let subscriptions = provider.provider.subscription_objects().is_some();
    let connection = save_connection(state, connection, Some(&api_key), subscriptions).await?;
    tracing::info!(user_id = %user.id, slug, "connected with an API key");
    // Webhooks make charts fresh within seconds; without one, the events feed still keeps the
    // store true, so a failure here is no failure of the connection.
    if let Err(error) =
        crate::webhooks::create_at_provider(&state.services(), &provider, &connection, &api_key)
            .await
    {
        tracing::warn!(error = %error, "could not create the connection's webhook endpoint");
    }
    Ok(connection)
}

/// Deauthorizes at the provider where it can (a failure there is logged, not fatal: the user
/// asked to be disconnected), then deletes the tokens and everything synced.
pub async fn disconnect(state: &AppState, user: &AuthUser, slug: &str) -> Result<(), ApiError> {
    let (source, connection) = user_connection(state, user, slug).await?;
    if let Some(provider) = registry::resolve(&state.settings, &state.base_url, &source) {
        let decrypt = |stored: &str, field: &str| {
            state
                .cipher
                .decrypt(stored, &token_context(user.id, slug, field))
                .ok()
        };
        if let Some(access_token) = decrypt(&connection.access_token_enc, "access") {
            let disconnecting = Disconnecting {
                auth_kind: connection.auth_kind,
                account_id: connection.account_id.clone(),
                access_token,
                refresh_token: connection
                    .refresh_token_enc
                    .as_deref()
                    .and_then(|stored| decrypt(stored, "refresh")),
            };
            if let Err(error) = provider
                .provider
                .disconnect(&state.http, &provider, &disconnecting)
                .await
            {
                tracing::warn!(slug, error = %error, "the provider did not confirm the disconnect");
            }
        }
    }
    state.repository.delete_connection(connection.id).await?;
    tracing::info!(user_id = %user.id, slug, "disconnected");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::sanitize_code;

    #[test]
    fn provider_error_codes_are_reduced_to_safe_words() {
        assert_eq!(sanitize_code("access_denied"), "access_denied");
        assert_eq!(sanitize_code("<script>x"), "scriptx");
        assert_eq!(sanitize_code("../"), "provider_error");
    }
}
