//! A small client-side router: the current URL in a signal, links handled without page loads,
//! the back and forward buttons, and navigation from code. (A few hundred bytes of wasm where
//! `leptos_router` costs tens of kilobytes; the routes themselves are matched by the pure
//! [`frontend_logic::url::route`].)

use leptos::prelude::*;

use crate::browser;
use frontend_logic::url::{query_param, url_path};

/// The current path and query string (`/sources?connected=demo`).
#[derive(Debug, Clone, Copy)]
pub struct Location {
    url: RwSignal<String>,
}

impl Location {
    /// The path without query string or trailing slash (reactive).
    pub fn path(&self) -> String {
        self.url.with(|url| url_path(url))
    }

    /// A query parameter, decoded (reactive).
    pub fn query(&self, key: &str) -> Option<String> {
        self.url.with(|url| query_param(url, key))
    }

    /// A query parameter, decoded, without subscribing to changes.
    pub fn query_untracked(&self, key: &str) -> Option<String> {
        self.url.with_untracked(|url| query_param(url, key))
    }

    /// Path and query string (reactive).
    pub fn url(&self) -> String {
        self.url.get()
    }
}

/// Starts routing at the app root.
pub fn provide_router() -> Location {
    let location = Location {
        url: RwSignal::new(browser::location_path()),
    };
    browser::install_router(move |url| location.url.set(url));
    provide_context(location);
    location
}

pub fn use_location() -> Location {
    expect_context::<Location>()
}

/// Goes to `url` (a new history entry).
pub fn navigate(url: &str) {
    browser::navigate(url, false);
}

/// Goes to `url` in place of the current entry (redirects).
pub fn redirect(url: &str) {
    browser::navigate(url, true);
}
