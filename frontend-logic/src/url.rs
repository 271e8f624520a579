//! Query strings and safe redirects.

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `?a=1&b=x%20y` from pairs; pairs with an empty value are left out. Empty when none remain.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if value.is_empty() {
            continue;
        }
        out.push(if out.is_empty() { '?' } else { '&' });
        out.push_str(&encode_component(key));
        out.push('=');
        out.push_str(&encode_component(value));
    }
    out
}

/// Where to go after signing in: `next` when it is a path of this app, else `/`. Refuses other
/// origins (`//evil.example`, `https://...`, `/\evil`) and loops back to the sign-in pages.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control)
                && !path.starts_with("/login")
                && !path.starts_with("/register") =>
        {
            path.to_string()
        }
        _ => "/".into(),
    }
}

/// `/login?next=<path>` for a path the user wanted.
pub fn login_url(current: &str) -> String {
    let next = safe_next(Some(current));
    if next == "/" {
        "/login".into()
    } else {
        format!("/login{}", query_string(&[("next", &next)]))
    }
}

/// Decodes `%XX` escapes and `+` (a space in query strings); invalid escapes stay as they are.
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `key` in a URL (`/sources?connected=demo` or `?a=1` or `a=1`), decoded.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = match url.split_once('?') {
        Some((_, query)) => query,
        None if !url.starts_with('/') => url,
        None => return None,
    };
    let query = query.split('#').next().unwrap_or("");
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_component(name) == key).then(|| decode_component(value))
    })
}

/// The path of a URL, without query string or fragment, and without a trailing slash
/// (`/sources/?x` -> `/sources`, `` -> `/`).
pub fn url_path(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        "/".into()
    } else {
        path.to_string()
    }
}

/// The pages of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Home,
    Login,
    Register,
    Sources,
    NewMetric,
    Dashboards,
    Dashboard(i64),
    Admin,
    Tokens,
    NotFound,
}

/// Which page a path shows.
pub fn route(path: &str) -> Route {
    let path = url_path(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => Route::Home,
        ["login"] => Route::Login,
        ["register"] => Route::Register,
        ["sources"] => Route::Sources,
        ["metrics", "new"] => Route::NewMetric,
        ["dashboards"] => Route::Dashboards,
        ["dashboards", id] => id.parse().map_or(Route::NotFound, Route::Dashboard),
        ["admin"] => Route::Admin,
        ["tokens"] => Route::Tokens,
        _ => Route::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_components() {
        assert_eq!(decode_component("America%2FNew_York"), "America/New_York");
        assert_eq!(decode_component("a+b%20c"), "a b c");
        assert_eq!(decode_component("%C3%A9"), "é");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_component("%zz"), "%zz");
        assert_eq!(decode_component("%4"), "%4");
        assert_eq!(decode_component(&encode_component("/a b?&=é")), "/a b?&=é");
    }

    #[test]
    fn reads_query_parameters() {
        let url = "/sources?error=access_denied&source=demo";
        assert_eq!(query_param(url, "error").as_deref(), Some("access_denied"));
        assert_eq!(query_param(url, "source").as_deref(), Some("demo"));
        assert_eq!(query_param(url, "connected"), None);
        assert_eq!(
            query_param("/login?next=%2Fdashboards%2F3", "next").as_deref(),
            Some("/dashboards/3")
        );
        assert_eq!(query_param("/sources", "x"), None);
        assert_eq!(query_param("?flag", "flag").as_deref(), Some(""));
        assert_eq!(query_param("/a?x=1#x=2", "x").as_deref(), Some("1"));
    }

    #[test]
    fn routes_paths_to_pages() {
        assert_eq!(route("/"), Route::Home);
        assert_eq!(route(""), Route::Home);
        assert_eq!(route("/login?next=/x"), Route::Login);
        assert_eq!(route("/sources/"), Route::Sources);
        assert_eq!(route("/sources?connected=demo"), Route::Sources);
        assert_eq!(route("/metrics/new"), Route::NewMetric);
        assert_eq!(route("/dashboards"), Route::Dashboards);
        assert_eq!(route("/dashboards/42"), Route::Dashboard(42));
        assert_eq!(route("/dashboards/abc"), Route::NotFound);
        assert_eq!(route("/admin"), Route::Admin);
        assert_eq!(route("/tokens"), Route::Tokens);
        assert_eq!(route("/register"), Route::Register);
        assert_eq!(route("/nope"), Route::NotFound);
        assert_eq!(route("/metrics"), Route::NotFound);
        assert_eq!(url_path("/x/?y#z"), "/x");
    }

    #[test]
    fn encodes_components() {
        assert_eq!(encode_component("America/New_York"), "America%2FNew_York");
        assert_eq!(encode_component("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(encode_component("é"), "%C3%A9");
        assert_eq!(encode_component("data.object-x_~"), "data.object-x_~");
    }

    #[test]
    fn builds_query_strings() {
        assert_eq!(query_string(&[]), "");
        assert_eq!(query_string(&[("a", "")]), "");
        assert_eq!(
            query_string(&[("period", "monthly"), ("x", ""), ("tz", "Europe/Paris")]),
            "?period=monthly&tz=Europe%2FParis"
        );
    }

    #[test]
    fn keeps_redirects_on_this_site() {
        assert_eq!(
            safe_next(Some("/sources?connected=demo")),
            "/sources?connected=demo"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/login?next=/x")), "/");
        assert_eq!(safe_next(Some("/a\nb")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(login_url("/dashboards/3"), "/login?next=%2Fdashboards%2F3");
        assert_eq!(login_url("/"), "/login");
        assert_eq!(login_url("/login"), "/login");
    }
}
