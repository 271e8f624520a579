//! One typed call per endpoint over a small fetch helper.

use allmetrics_common::{ErrorBody, HealthStatus};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

/// What a failed call tells the user: the API's own message when it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiFailure {}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    if response.ok() {
        return response.json::<T>().await.map_err(|error| ApiFailure {
            code: "unreadable_response".into(),
            message: format!("The server's answer could not be read: {error}"),
        });
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiFailure {
            code: body.error,
            message: body.message,
        }),
        Err(_) => Err(ApiFailure {
            code: "http_error".into(),
            message: format!("The server answered {status}."),
        }),
    }
}

fn network_failure(error: gloo_net::Error) -> ApiFailure {
    ApiFailure {
        code: "network_error".into(),
        message: format!("The server could not be reached: {error}"),
    }
}

pub async fn get_health() -> Result<HealthStatus, ApiFailure> {
    let response = Request::get("/healthz")
        .send()
        .await
        .map_err(network_failure)?;
    read(response).await
}
