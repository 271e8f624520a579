//! The web app. Any GET that no API route claims is the SPA's business: a file of the build when
//! one matches, else `index.html` so that the app's own router handles deep links (history API).

use std::path::{Component, Path, PathBuf};

use actix_files::NamedFile;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};

use crate::error::ApiError;
use crate::state::AppState;

/// Paths that belong to the API: an unknown one is a JSON 404, never the SPA.
const API_PREFIXES: &[&str] = &[
    "/api", "/connect", "/docs", "/sandbox", "/healthz", "/readyz",
];

fn is_api_path(path: &str) -> bool {
    API_PREFIXES
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// The build names assets `name-<16 hex digits>.ext`: their content never changes under that
/// name, so browsers may keep them for a year.
fn is_hashed_asset(path: &Path) -> bool {
    let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
        return false;
    };
    let stem = stem.trim_end_matches("_bg");
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The file under `root` that a URL path names, refusing anything that would leave `root`.
fn file_under(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.trim_start_matches('/'));
    if relative
        .components()
        .any(|component| !matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let candidate = root.join(relative);
    candidate.is_file().then_some(candidate)
}

async fn serve_file(request: &HttpRequest, path: &Path, cache: &'static str) -> HttpResponse {
    match NamedFile::open_async(path).await {
        Ok(file) => {
            let mut response = file.into_response(request);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Err(error) => ApiError::internal(error).error_response(),
    }
}

pub async fn fallback(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let path = request.path();
    let is_read = request.method() == Method::GET || request.method() == Method::HEAD;
    if !is_read || is_api_path(path) {
        return ApiError::not_found(
            "not_found",
            format!("No route for {} {path}.", request.method()),
        )
        .error_response();
    }
    let root = &state.settings.application.static_dir;
    if path != "/" {
        if let Some(file) = file_under(root, path) {
            let cache = if is_hashed_asset(&file) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            return serve_file(&request, &file, cache).await;
        }
    }
    let index = root.join("index.html");
    if index.is_file() {
        // Always revalidated: it names the current hashed assets.
        return serve_file(&request, &index, "no-cache").await;
    }
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "web_app_not_built",
        format!(
            "The web app is not built (no index.html in `{}`). Run `make run`, or set \
             APP_APPLICATION__STATIC_DIR to the folder of a built web app.",
            root.display()
        ),
    )
    .error_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_recognised_by_whole_segments() {
        assert!(is_api_path("/api/v1/me"));
        assert!(is_api_path("/connect/query/stripe"));
        assert!(is_api_path("/healthz"));
        assert!(!is_api_path("/apiary"));
        assert!(!is_api_path("/dashboards/3"));
    }

    #[test]
    fn hashed_assets_are_recognised() {
        assert!(is_hashed_asset(Path::new("frontend-3f2a9c1b0d4e5f67.js")));
        assert!(is_hashed_asset(Path::new(
            "frontend-3f2a9c1b0d4e5f67_bg.wasm"
        )));
        assert!(!is_hashed_asset(Path::new("index.html")));
        assert!(!is_hashed_asset(Path::new("favicon.ico")));
    }

    #[test]
    fn paths_cannot_escape_the_static_folder() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("a.txt"), "a").unwrap();
        assert!(file_under(root.path(), "/a.txt").is_some());
        assert!(file_under(root.path(), "/../etc/passwd").is_none());
        assert!(file_under(root.path(), "/missing.js").is_none());
    }
}
