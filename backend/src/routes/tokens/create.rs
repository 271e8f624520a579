use actix_web::{web, HttpResponse};
use allmetrics_common::{CreateApiTokenRequest, CreatedApiTokenResponse, ErrorBody};

use crate::auth::{api_token, AuthUser};
use crate::domain::NewApiToken;
use crate::error::ApiError;
use crate::routes::admin::validate_display_name;
use crate::state::AppState;

/// Tokens one user may have at once.
pub const MAX_TOKENS_PER_USER: i64 = 50;
/// The longest lifetime a token can be given (ten years).
const MAX_EXPIRY_DAYS: u32 = 3_650;

/// Create a personal API token. The token is in this answer only: it is stored as its hash.
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "tokens",
    operation_id = "create_token",
    security(("bearer" = [])),
    request_body = CreateApiTokenRequest,
    responses(
        (status = 201, description = "Created; `token` is shown this once", body = CreatedApiTokenResponse),
        (status = 400, description = "`invalid_name`, `invalid_expiry`", body = ErrorBody),
        (status = 401, description = "`unauthorized`, `invalid_token`, `session_ended`", body = ErrorBody),
        (status = 403, description = "`session_required`: an API token cannot make tokens", body = ErrorBody),
        (status = 409, description = "`too_many_tokens`", body = ErrorBody)
    )
)]
pub async fn create_token(
    user: AuthUser,
    state: web::Data<AppState>,
    body: crate::routes::extractors::Json<CreateApiTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    user.require_session()?;
    let request = body.into_inner();
    let name = validate_display_name(&request.name, "token's name")?;
    let now = chrono::Utc::now().timestamp();
    let expires_at = match request.expires_in_days {
        None => None,
        Some(days @ 1..=MAX_EXPIRY_DAYS) => Some(now + i64::from(days) * 86_400),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_expiry",
                format!("`expires_in_days` must be from 1 to {MAX_EXPIRY_DAYS}, or absent."),
            ))
        }
    };
    let generated = api_token::generate().map_err(ApiError::internal)?;
    let stored = state
        .repository
        .create_api_token(
            NewApiToken {
                user_id: user.id,
                name,
                scope: request.scope,
                token_hash: generated.hash,
                prefix: generated.prefix,
                created_at: now,
                expires_at,
            },
            MAX_TOKENS_PER_USER,
        )
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "too_many_tokens",
                format!(
                    "You have {MAX_TOKENS_PER_USER} API tokens, the most one account may have: \
                     revoke one first."
                ),
            )
        })?;
    tracing::info!(user_id = %user.id, token_id = stored.id.0, scope = stored.scope.as_str(), "API token created");
    Ok(HttpResponse::Created()
        .insert_header(("cache-control", "no-store"))
        .json(CreatedApiTokenResponse {
            token: generated.token,
            api_token: stored.to_response(),
        }))
}
