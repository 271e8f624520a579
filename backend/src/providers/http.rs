//! The HTTP client used for every provider call: no redirects (a token endpoint that redirects is
//! refused, never followed), bounded time, a clear user agent.

use std::time::Duration;

use crate::configuration::HttpClientSettings;

pub fn client(settings: &HttpClientSettings) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(settings.timeout_secs))
        .connect_timeout(Duration::from_secs(settings.connect_timeout_secs))
        .user_agent(concat!("allmetrics/", env!("CARGO_PKG_VERSION")))
        .build()?)
}
