use serde::{Deserialize, Serialize};

/// A user's connection to a data source, as the API shows it (never with its tokens).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionResponse {
    /// The data source's slug.
    pub source: String,
    /// `oauth` or `api_key`.
    pub auth_kind: String,
    /// The provider's account id (Stripe: `acct_...`), when the provider tells it.
    pub account_id: Option<String>,
    /// `active`; `needs_account` until the account to read is chosen (report sources);
    /// `expiring` during the last 7 days of a token that cannot be refreshed (Facebook: syncs go
    /// on); `needs_reconnect` when the provider refused the token or it expired.
    pub status: String,
    /// The account chosen to read (a GA4 property), for sources that offer several.
    #[serde(default)]
    pub account: Option<AccountResponse>,
    /// The currency its subscription metrics are converted to (ISO 4217, lower case), as set
    /// with `PATCH /api/v1/connections/{slug}`; `null`: the account's default currency.
    #[serde(default)]
    pub reporting_currency: Option<String>,
    /// How its subscription metrics are defined (Stripe-compatible sources).
    #[serde(default)]
    pub subscription_settings: crate::SubscriptionSettings,
    /// Granted scopes, space-separated.
    pub scopes: String,
    /// RFC 3339; `null` for tokens that do not expire.
    pub expires_at: Option<String>,
    pub connected_at: String,
    pub updated_at: String,
}

/// `GET /api/v1/sources`: an enabled data source and the caller's connection to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceResponse {
    pub slug: String,
    pub name: String,
    /// The provider implementation: `stripe`, `google`, `facebook`, `demo`, `oauth2`.
    pub provider: String,
    /// Whether this server has the provider's credentials (connecting needs them).
    pub configured: bool,
    /// Whether an API key can be used instead of OAuth.
    pub api_key_supported: bool,
    /// Whether subscription metrics (MRR, churn...) can be made of it (Stripe-compatible).
    #[serde(default)]
    pub subscriptions_supported: bool,
    pub connection: Option<ConnectionResponse>,
}

/// An object a data source offers (a routing source).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObjectResponse {
    /// E.g. `Charge`; what `/connect/query/{slug}?object_name=` takes.
    pub name: String,
    pub label: String,
    pub enabled: bool,
}

/// A data source as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminSourceResponse {
    pub slug: String,
    pub name: String,
    pub provider: String,
    pub enabled: bool,
    pub configured: bool,
    /// How many users are connected.
    pub connections: i64,
    pub created_at: String,
}

/// `POST /api/v1/admin/sources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"slug": "stripe-eu", "name": "Stripe (EU)", "provider": "stripe", "enabled": true})))]
pub struct CreateSourceRequest {
    /// Lowercase letters, digits, `-` and `_`; at most 64 characters. Cannot change later.
    pub slug: String,
    pub name: String,
    /// A provider implementation: `stripe`, `google`, `facebook`, `demo`, `oauth2`.
    pub provider: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// `PATCH /api/v1/admin/sources/{slug}`: rename, enable or disable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "Demo Ads (sandbox)", "enabled": true})))]
pub struct UpdateSourceRequest {
    pub name: Option<String>,
    pub enabled: Option<bool>,
}

/// `POST /api/v1/admin/sources/{slug}/objects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"name": "TaxRate", "label": "Tax rates", "enabled": true})))]
pub struct CreateObjectRequest {
    /// The provider's object name, e.g. `Charge`: a letter, then letters, digits or `_`.
    pub name: String,
    /// Default: the name.
    pub label: Option<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

/// `PATCH /api/v1/admin/sources/{slug}/objects/{object_name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"label": "Campaigns", "enabled": true})))]
pub struct UpdateObjectRequest {
    pub label: Option<String>,
    pub enabled: Option<bool>,
}

/// `PATCH /api/v1/connections/{slug}`: the connection's settings. A field left out keeps its
/// value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"reporting_currency": "eur", "subscription_settings": {"churn_at": "cancellation"}})))]
pub struct UpdateConnectionRequest {
    /// What subscription metrics are converted to: an ISO 4217 code (three letters, any case;
    /// stored in lower case), or `null` for the account's default currency (Stripe's
    /// `default_currency`, else the currency most subscriptions bill in).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "eur"))]
    pub reporting_currency: Option<Option<String>>,
    /// How its subscription metrics are defined: the fields given change, the others keep
    /// their value; `null` goes back to every default.
    #[serde(
        default,
        deserialize_with = "present_object",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::SubscriptionSettingsChange>))]
    pub subscription_settings: Option<Option<crate::SubscriptionSettingsChange>>,
}

/// A field that is present, `null` or not: `Some(None)` for `null` (absent is `None`, by
/// `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Like [`present`], for an object only: serde would also take a struct from an array of its
/// fields in order, which is not what the schema says.
fn present_object<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    match Option::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)? {
        None => Ok(Some(None)),
        Some(object) => serde_json::from_value(serde_json::Value::Object(object))
            .map(|value| Some(Some(value)))
            .map_err(D::Error::custom),
    }
}

/// `GET /connect/authorize/{slug}` with `Accept: application/json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeUrlResponse {
    pub authorize_url: String,
}

/// `POST /api/v1/connections/{slug}/key`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyRequest {
    /// A secret or restricted key (Stripe: `rk_live_...`, `sk_test_...`).
    #[cfg_attr(
        feature = "openapi",
        schema(format = Password, example = "sk_test_allmetrics_demo")
    )]
    pub api_key: String,
}

impl std::fmt::Debug for ApiKeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeyRequest { api_key: [redacted] }")
    }
}

/// An account a connection can read: a GA4 property, an ad account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountResponse {
    /// What `PUT /api/v1/connections/{slug}/account` takes (GA4: the property's number).
    pub id: String,
    pub name: String,
    /// The account (or business) it belongs to.
    pub parent: Option<String>,
    /// IANA time zone its reports' days are in, when known.
    pub time_zone: Option<String>,
    /// ISO 4217 currency of its money figures, when known.
    pub currency: Option<String>,
}

/// `PUT /api/v1/connections/{slug}/account`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChooseAccountRequest {
    /// One of the ids `GET /api/v1/connections/{slug}/accounts` lists.
    pub id: String,
}
