//! Changes pushed by Stripe: a connection's own endpoint (API-key connections; Stripe makes its
//! signing secret) and the platform endpoint of Connect (events name their account). A delivery
//! is verified, queued for the object's sync job, and answered at once: the job applies it within
//! seconds, on the provider's clock, so repeated and out-of-order deliveries never take the store
//! back. The events feed still runs: a lost delivery loses nothing.

use secrecy::ExposeSecret;

use crate::db::changes::ConnectionWebhook;
use crate::db::DbError;
use crate::domain::{AuthKind, Connection};
use crate::providers::stripe::{events, webhook};
use crate::services::Services;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook endpoint has this address")]
    UnknownEndpoint,
    #[error("this endpoint has no signing secret yet: paste it from Stripe's dashboard")]
    NotConfigured,
    #[error("{0}")]
    Signature(#[from] webhook::SignatureError),
    #[error("the body is not a JSON event")]
    NotAnEvent,
    #[error("a signing secret starts with whsec_")]
    InvalidSecret,
    #[error("webhooks are for Stripe connections")]
    NotSupported,
    #[error(transparent)]
    Storage(#[from] DbError),
    #[error("the secret cannot be sealed or read: {0}")]
    Crypto(String),
}

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// Connections whose sync it was queued for (0: not an object allmetrics keeps, or
    /// delivered before).
    pub queued: usize,
}

/// Stripe's connections, and the Demo source's, which speaks Stripe's API.
fn speaks_stripe(connection: &Connection) -> bool {
    matches!(connection.provider.as_str(), "stripe" | "demo")
}

fn secret_context(connection: &Connection) -> String {
    crate::tokens::token_context(connection.user_id, &connection.slug, "webhook")
}

/// The endpoint's URL for a connection: `/webhooks/stripe/{id}` on the server's base URL.
pub fn endpoint_url(services: &Services, webhook: &ConnectionWebhook) -> String {
    format!(
        "{}/webhooks/stripe/{}",
        services.base_url.trim_end_matches('/'),
        webhook.webhook_id
    )
}

/// The connection's endpoint, made (without a secret) the first time it is asked for.
pub async fn endpoint_of(
    services: &Services,
    connection: &Connection,
) -> Result<ConnectionWebhook, WebhookError> {
    if !speaks_stripe(connection) {
        return Err(WebhookError::NotSupported);
    }
    if let Some(existing) = services
        .repository
        .connection_webhook(connection.id)
        .await?
    {
        return Ok(existing);
    }
    let id = crate::secrets::random_bytes(24)
        .map_err(|error| WebhookError::Crypto(error.to_string()))?;
    let webhook = ConnectionWebhook {
        connection_id: connection.id,
        webhook_id: hex::encode(id),
        secret_enc: None,
        provider_endpoint_id: None,
        created_at: chrono::Utc::now().timestamp(),
    };
    services
        .repository
        .save_connection_webhook(&webhook)
        .await?;
    Ok(webhook)
}

/// Stores the signing secret the user copied from Stripe's dashboard. Several, comma-separated,
/// while Stripe rolls it.
pub async fn set_secret(
    services: &Services,
    connection: &Connection,
    secret: &str,
) -> Result<ConnectionWebhook, WebhookError> {
    let secrets: Vec<&str> = secret.split(',').map(str::trim).collect();
    let valid = |secret: &&str| {
        secret.starts_with("whsec_")
            && (12..=200).contains(&secret.len())
            && secret
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_')
    };
    if secrets.is_empty() || secrets.len() > 2 || !secrets.iter().all(valid) {
        return Err(WebhookError::InvalidSecret);
    }
    let mut webhook = endpoint_of(services, connection).await?;
    webhook.secret_enc = Some(
        services
            .cipher
            .encrypt(&secrets.join(","), &secret_context(connection))
            .map_err(|error| WebhookError::Crypto(error.to_string()))?,
    );
    services
        .repository
        .save_connection_webhook(&webhook)
        .await?;
    Ok(webhook)
}

/// A delivery to a connection's own endpoint.
pub async fn receive_for_connection(
    services: &Services,
    webhook_id: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Receipt, WebhookError> {
    // Ids are hex: anything else is no endpoint, without a query.
    if webhook_id.len() > 64 || !webhook_id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(WebhookError::UnknownEndpoint);
    }
    let webhook = services
        .repository
        .webhook_by_id(webhook_id)
        .await?
        .ok_or(WebhookError::UnknownEndpoint)?;
    let connection = services
        .repository
        .connection_by_id(webhook.connection_id)
        .await?
        .ok_or(WebhookError::UnknownEndpoint)?;
    let secret = webhook
        .secret_enc
        .as_deref()
        .ok_or(WebhookError::NotConfigured)?;
    let secret = services
        .cipher
        .decrypt(secret, &secret_context(&connection))
        .map_err(|error| WebhookError::Crypto(error.to_string()))?;
    let secrets: Vec<&str> = secret.expose_secret().split(',').collect();
    webhook::verify(signature, body, &secrets, chrono::Utc::now().timestamp())?;
    let event = parse(body)?;
    queue(services, &[connection], &event).await
}

/// A delivery to the Connect platform endpoint: the event names the connected account.
pub async fn receive_for_platform(
    services: &Services,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Receipt, WebhookError> {
    let configured = services
        .settings
        .providers
        .get("stripe")
        .and_then(|stripe| stripe.webhook_secret.as_ref())
        .ok_or(WebhookError::NotConfigured)?;
    let secrets: Vec<&str> = configured
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|secret| !secret.is_empty())
        .collect();
    if secrets.is_empty() {
        return Err(WebhookError::NotConfigured);
    }
    webhook::verify(signature, body, &secrets, chrono::Utc::now().timestamp())?;
    let event = parse(body)?;
    let Some(account) = event["account"].as_str() else {
        return Ok(Receipt { queued: 0 });
    };
    let connections: Vec<Connection> = services
        .repository
        .connections_of_account(account)
        .await?
        .into_iter()
        .filter(|connection| connection.auth_kind == AuthKind::OAuth && speaks_stripe(connection))
        .collect();
    queue(services, &connections, &event).await
}

fn parse(body: &[u8]) -> Result<serde_json::Value, WebhookError> {
    let event: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| WebhookError::NotAnEvent)?;
    if event["object"] != "event" || !event["id"].is_string() {
        return Err(WebhookError::NotAnEvent);
    }
    Ok(event)
}

/// Queues the event for each connection that keeps its object.
async fn queue(
    services: &Services,
    connections: &[Connection],
    event: &serde_json::Value,
) -> Result<Receipt, WebhookError> {
    let Some((object_name, change)) = events::change_of(event) else {
        return Ok(Receipt { queued: 0 });
    };
    let now = chrono::Utc::now().timestamp();
    let mut queued = 0;
    for connection in connections {
        if services
            .repository
            .queue_change(
                connection.id,
                object_name,
                &change.id,
                change.at,
                event,
                now,
            )
            .await?
        {
            queued += 1;
        }
    }
    Ok(Receipt { queued })
}

/// Creates the connection's endpoint at Stripe with its key (`POST /v1/webhook_endpoints`, for
/// the event types of the source's enabled objects) and keeps the secret Stripe shows once. A key
/// that may not (a restricted key) leaves it to the user, who pastes the secret from Stripe's
/// dashboard; the events feed keeps the store true meanwhile.
pub async fn create_at_provider(
    services: &Services,
    provider: &crate::providers::ResolvedProvider,
    connection: &Connection,
    key: &secrecy::SecretString,
) -> Result<bool, WebhookError> {
    if !speaks_stripe(connection) {
        return Ok(false);
    }
    let mut webhook = endpoint_of(services, connection).await?;
    if webhook.secret_enc.is_some() {
        return Ok(false);
    }
    let objects = services
        .repository
        .list_routing_sources(connection.data_source_id, false)
        .await?;
    let mut form: Vec<(&str, String)> = vec![
        ("url", endpoint_url(services, &webhook)),
        ("description", "allmetrics".into()),
    ];
    for object in &objects {
        for kind in events::event_types(&object.object_name) {
            form.push(("enabled_events[]", (*kind).to_string()));
        }
    }
    let request = services
        .http
        .post(format!("{}/v1/webhook_endpoints", provider.api_base))
        .bearer_auth(key.expose_secret())
        .form(&form);
    let Ok(answer) =
        crate::providers::reader::send(provider.provider.default_name(), request).await
    else {
        return Ok(false);
    };
    if !answer.is_success() {
        tracing::info!(
            connection = connection.id.0,
            status = answer.status,
            "the key may not create a webhook endpoint: the user can paste one's secret"
        );
        return Ok(false);
    }
    let created: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|_| WebhookError::NotAnEvent)?;
    let (Some(id), Some(secret)) = (created["id"].as_str(), created["secret"].as_str()) else {
        return Ok(false);
    };
    webhook.provider_endpoint_id = Some(id.to_string());
    webhook.secret_enc = Some(
        services
            .cipher
            .encrypt(secret, &secret_context(connection))
            .map_err(|error| WebhookError::Crypto(error.to_string()))?,
    );
    services
        .repository
        .save_connection_webhook(&webhook)
        .await?;
    Ok(true)
}
