//! Facebook's error envelope: `{"error": {"message": ..., "type": "OAuthException", "code": 190,
//! "error_subcode"?: 463, "fbtrace_id": ...}}`, with the HTTP statuses the Graph API uses: 400 for almost
//! everything (bad parameters, invalid or expired tokens, throttling), 403 for missing permissions, 500 for
//! its own failures.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::{json, Map, Value};

use crate::api::auth::CredentialProblem;
use crate::api::{Refusal, Refused};

/// Why the Graph API's "reduce the data" error (code 1, subcode 1504044) is sent.
pub(crate) const REDUCE_DATA: &str =
    "Please reduce the amount of data you're asking for, then retry your request";

#[derive(Debug)]
pub(crate) struct FacebookError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    pub code: u32,
    pub subcode: Option<u32>,
    /// Seconds for `Retry-After` (only the sandbox's own rate limit and 429 bursts: Facebook sends none).
    pub retry_after: Option<u64>,
}

impl FacebookError {
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        FacebookError {
            status,
            kind: "OAuthException",
            message: message.into(),
            code,
            subcode: None,
            retry_after: None,
        }
    }

    pub(crate) fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    /// Code 100, the Graph API's "invalid parameter".
    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        FacebookError::new(
            StatusCode::BAD_REQUEST,
            100,
            format!("(#100) {}", message.into()),
        )
    }

    /// A node or edge that does not exist (or that a GET cannot read).
    pub(crate) fn unsupported_request(method: &str, object: &str) -> Self {
        FacebookError {
            kind: "GraphMethodException",
            ..FacebookError::new(
                StatusCode::BAD_REQUEST,
                100,
                format!(
                    "Unsupported {} request. Object with ID '{object}' does not exist, cannot be loaded due to \
                     missing permissions, or does not support this operation. Please read the Graph API \
                     documentation at https://developers.facebook.com/docs/graph-api",
                    method.to_ascii_lowercase()
                ),
            )
            .with_subcode(33)
        }
    }

    /// Code 190: the access token cannot be used (463: expired, 460: revoked).
    pub(crate) fn invalid_token(problem: CredentialProblem) -> Self {
        let error = |message: &str| FacebookError::new(StatusCode::BAD_REQUEST, 190, message);
        match problem {
            CredentialProblem::Missing => FacebookError::new(
                StatusCode::BAD_REQUEST,
                104,
                "An access token is required to request this resource.",
            ),
            CredentialProblem::Expired => {
                error("Error validating access token: Session has expired.").with_subcode(463)
            }
            CredentialProblem::Revoked => error(
                "Error validating access token: The session has been invalidated because the user changed \
                 their password or Facebook has changed the session for security reasons.",
            )
            .with_subcode(460),
            CredentialProblem::Unknown | CredentialProblem::WrongAccount => {
                error("Invalid OAuth access token - Cannot parse access token")
            }
        }
    }

    /// The ad account used its hourly calls (`ads_calls_per_hour`).
    pub(crate) fn account_throttled() -> Self {
        FacebookError::new(
            StatusCode::BAD_REQUEST,
            80_000,
            "(#80000) There have been too many calls from this ad-account. Wait a bit and try again. \
             For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
        )
        .with_subcode(2_446_079)
    }

    /// The application used its hourly calls.
    pub(crate) fn app_throttled() -> Self {
        FacebookError::new(
            StatusCode::BAD_REQUEST,
            4,
            "(#4) Application request limit reached",
        )
    }

    pub(crate) fn range_too_large() -> Self {
        FacebookError::new(StatusCode::BAD_REQUEST, 1, REDUCE_DATA).with_subcode(1_504_044)
    }

    /// What `force_ads_errors` asked for, in the words Facebook uses for that code.
    pub(crate) fn forced(code: u32) -> Self {
        let bad = StatusCode::BAD_REQUEST;
        match code {
            1 => FacebookError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                1,
                "An unknown error occurred",
            ),
            2 => FacebookError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                "An unexpected error has occurred. Please retry your request later.",
            ),
            4 => FacebookError::app_throttled(),
            17 => FacebookError::new(bad, 17, "(#17) User request limit reached")
                .with_subcode(2_446_079),
            32 => FacebookError::new(bad, 32, "(#32) Page request limit reached"),
            100 => FacebookError::invalid_parameter("Invalid parameter"),
            190 => FacebookError::invalid_token(CredentialProblem::Expired),
            200 => FacebookError::missing_permission(),
            613 => FacebookError::new(
                bad,
                613,
                "(#613) Calls to this api have exceeded the rate limit.",
            ),
            80_000 => FacebookError::account_throttled(),
            other => FacebookError::new(
                bad,
                other,
                format!("(#{other}) An error forced by the sandbox"),
            ),
        }
    }

    pub(crate) fn missing_permission() -> Self {
        FacebookError::new(
            StatusCode::FORBIDDEN,
            200,
            "(#200) Requires ads_read permission to manage the object",
        )
    }

    /// What `admit` refused, in Facebook's words.
    pub(crate) fn from_refused(refused: &Refused) -> Self {
        match &refused.refusal {
            Refusal::Credential(error) => FacebookError::invalid_token(error.problem),
            Refusal::Scope => FacebookError::missing_permission(),
            Refusal::RateLimited(retry_after) => FacebookError {
                retry_after: Some(*retry_after),
                ..FacebookError::forced(17)
            },
            Refusal::ServerError => FacebookError::forced(2),
        }
    }

    pub(crate) fn body(&self, trace_id: &str) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), self.message.clone().into());
        error.insert("type".into(), self.kind.into());
        error.insert("code".into(), self.code.into());
        if let Some(subcode) = self.subcode {
            error.insert("error_subcode".into(), subcode.into());
        }
        if matches!(self.code, 1 | 2 | 4 | 17 | 32 | 613 | 80_000) {
            // Facebook flags the errors worth retrying as is.
            error.insert(
                "is_transient".into(),
                (self.code != 1 || self.subcode.is_none()).into(),
            );
        }
        error.insert("fbtrace_id".into(), trace_id.into());
        json!({ "error": Value::Object(error) })
    }

    pub(crate) fn response(&self, trace_id: &str) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response
            .content_type("application/json; charset=UTF-8")
            .insert_header(("x-fb-trace-id", trace_id))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.code == 190 || self.code == 104 {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                format!(
                    "OAuth \"Facebook Platform\" \"invalid_token\" \"{}\"",
                    self.message.replace('"', "'")
                ),
            ));
        }
        response.body(self.body(trace_id).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_facebook_codes_and_statuses() {
        let throttled = FacebookError::account_throttled().body("Atrace");
        assert_eq!(throttled["error"]["code"], 80_000);
        assert_eq!(throttled["error"]["error_subcode"], 2_446_079);
        assert_eq!(throttled["error"]["type"], "OAuthException");
        assert_eq!(throttled["error"]["is_transient"], true);
        assert_eq!(throttled["error"]["fbtrace_id"], "Atrace");
        let range = FacebookError::range_too_large().body("A");
        assert_eq!(range["error"]["message"], REDUCE_DATA);
        assert_eq!(range["error"]["is_transient"], false);
        let expired = FacebookError::invalid_token(CredentialProblem::Expired);
        assert_eq!((expired.code, expired.subcode), (190, Some(463)));
        let revoked = FacebookError::invalid_token(CredentialProblem::Revoked);
        assert_eq!(revoked.subcode, Some(460));
        assert!(
            FacebookError::invalid_token(CredentialProblem::Unknown).body("A")["error"]
                .get("error_subcode")
                .is_none()
        );
        for code in [1, 2, 4, 17, 32, 100, 190, 200, 613, 80_000, 12_345] {
            let forced = FacebookError::forced(code);
            assert_eq!(forced.code, code);
            assert!(forced.status.is_client_error() || forced.status.is_server_error());
        }
        assert_eq!(FacebookError::forced(200).status, StatusCode::FORBIDDEN);
    }
}
