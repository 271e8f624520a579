//! Graph API cursor paging: `{"data": [...], "paging": {"cursors": {"before", "after"}, "next"?}}`.
//!
//! A cursor names a row's position in the whole result: base64 of its decimal index, with each `=` of padding
//! written `ZD`, as Facebook writes them (`MAZDZD` is row 0, `MjQZD` row 24). `before` is the page's first row,
//! `after` its last; `after=<cursor>` starts the next page just past it. `next` is the absolute URL of the
//! request itself (scheme, host and path as received, so it works under any mount prefix) with every parameter
//! repeated and `after` set; it is absent on the last page. An empty page is `{"data": []}`.

use actix_web::HttpRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::errors::FacebookError;

/// Rows per page when `limit` is not sent, and the most a page carries (larger limits are clamped).
pub(crate) const DEFAULT_LIMIT: usize = 25;
pub(crate) const MAX_LIMIT: usize = 500;

pub(crate) fn encode_cursor(index: usize) -> String {
    STANDARD.encode(index.to_string()).replace('=', "ZD")
}

pub(crate) fn decode_cursor(cursor: &str) -> Option<usize> {
    let padding = cursor.len() % 4;
    let body = cursor.strip_suffix(&"ZD".repeat(padding))?;
    let text = STANDARD
        .decode(format!("{body}{}", "=".repeat(padding)))
        .ok()?;
    let text = String::from_utf8(text).ok()?;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Where a page starts and how long it is, from `limit` and `after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub start: usize,
    pub limit: usize,
}

impl Window {
    /// Reads `limit` (1.., default 25, at most 500) and `after` from the request's parameters.
    pub(crate) fn parse(pairs: &[(String, String)]) -> Result<Window, FacebookError> {
        let mut window = Window {
            start: 0,
            limit: DEFAULT_LIMIT,
        };
        for (name, value) in pairs {
            match name.as_str() {
                "limit" => {
                    window.limit = match value.parse::<usize>() {
                        Ok(limit) if limit > 0 => limit.min(MAX_LIMIT),
                        _ => {
                            return Err(FacebookError::invalid_parameter(format!(
                                "Param limit must be a positive integer, not \"{value}\""
                            )))
                        }
                    }
                }
                "after" if !value.is_empty() => {
                    window.start =
                        decode_cursor(value).map(|index| index + 1).ok_or_else(|| {
                            FacebookError::invalid_parameter("Invalid cursor in after")
                        })?;
                }
                _ => {}
            }
        }
        Ok(window)
    }
}

/// The request's own URL with `after` set to `cursor` (and `before` dropped).
fn next_url(req: &HttpRequest, pairs: &[(String, String)], cursor: &str) -> String {
    let mut next: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(name, _)| name != "after" && name != "before")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    next.push(("after", cursor));
    let query = serde_urlencoded::to_string(&next).unwrap_or_default();
    let info = req.connection_info();
    format!("{}://{}{}?{query}", info.scheme(), info.host(), req.path())
}

/// The page of `rows` that `window` selects, each rendered by `render`, in the Graph API's envelope.
pub(crate) fn page<T>(
    req: &HttpRequest,
    pairs: &[(String, String)],
    window: Window,
    rows: &[T],
    render: impl Fn(&T) -> Value,
) -> Value {
    let total = rows.len();
    let start = window.start.min(total);
    let data: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(window.limit)
        .map(render)
        .collect();
    if data.is_empty() {
        return json!({ "data": [] });
    }
    let last = start + data.len() - 1;
    let mut paging = json!({
        "cursors": { "before": encode_cursor(start), "after": encode_cursor(last) },
    });
    if last + 1 < total {
        paging["next"] = next_url(req, pairs, &encode_cursor(last)).into();
    }
    json!({ "data": data, "paging": paging })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn pairs(query: &str) -> Vec<(String, String)> {
        serde_urlencoded::from_str(query).unwrap_or_default()
    }

    #[test]
    fn cursors_are_facebooks() {
        assert_eq!(encode_cursor(0), "MAZDZD");
        assert_eq!(encode_cursor(24), "MjQZD");
        assert_eq!(encode_cursor(72), "NzIZD");
        assert_eq!(encode_cursor(123), "MTIz");
        for index in [0, 1, 9, 10, 24, 99, 100, 123, 1000, 123_456] {
            assert_eq!(decode_cursor(&encode_cursor(index)), Some(index));
        }
        for bad in ["", "MA", "%%%", "YWJj", "LTE", "LTEZD"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn windows_read_limit_and_after() {
        assert_eq!(
            Window::parse(&pairs("limit=10&after=MjQZD")).ok(),
            Some(Window {
                start: 25,
                limit: 10
            })
        );
        assert_eq!(
            Window::parse(&pairs("limit=100000")).ok(),
            Some(Window {
                start: 0,
                limit: MAX_LIMIT
            })
        );
        assert!(Window::parse(&pairs("limit=0")).is_err());
        assert!(Window::parse(&pairs("limit=ten")).is_err());
        assert!(Window::parse(&pairs("after=nonsense")).is_err());
    }

    #[test]
    fn next_repeats_the_request_with_the_new_cursor() {
        let query =
            "fields=spend&after=MAZDZD&limit=2&time_range=%7B%22since%22%3A%222025-01-01%22%7D";
        let req = TestRequest::get()
            .uri(&format!("/sandbox/v25.0/act_1001/insights?{query}"))
            .insert_header(("Host", "app.example:8000"))
            .to_http_request();
        let pairs = pairs(query);
        let rows: Vec<Value> = (0..6).map(|i| json!({ "i": i })).collect();
        // `after=MAZDZD` (row 0): the page starts at row 1.
        let window = Window::parse(&pairs).unwrap_or(Window { start: 0, limit: 0 });
        let body = page(&req, &pairs, window, &rows, Value::clone);
        assert_eq!(body["data"], json!([{"i": 1}, {"i": 2}]));
        assert_eq!(
            body["paging"]["cursors"],
            json!({"before": "MQZDZD", "after": "MgZDZD"})
        );
        assert_eq!(
            body["paging"]["next"],
            "http://app.example:8000/sandbox/v25.0/act_1001/insights?fields=spend&limit=2&time_range=%7B%22since%22%3A%222025-01-01%22%7D&after=MgZDZD"
        );
        let last = page(
            &req,
            &pairs,
            Window { start: 4, limit: 2 },
            &rows,
            Value::clone,
        );
        assert!(last["paging"].get("next").is_none());
        assert_eq!(last["data"], json!([{"i": 4}, {"i": 5}]));
        let past = page(
            &req,
            &pairs,
            Window { start: 6, limit: 2 },
            &rows,
            Value::clone,
        );
        assert_eq!(past, json!({"data": []}));
    }
}
