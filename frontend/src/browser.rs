//! The few browser facilities the app needs beyond the DOM: time zones, the clock, cookies,
//! downloads and focus. A small JavaScript shim keeps the wasm free of large web-sys bindings.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(inline_js = r#"
export function sleep_promise(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
export function browser_time_zone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
}
export function today_in(tz) {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    }).formatToParts(new Date());
    const get = (type) => (parts.find((p) => p.type === type) || { value: "" }).value;
    return get("year") + "-" + get("month") + "-" + get("day");
  } catch (e) {
    return new Date().toISOString().slice(0, 10);
  }
}
export function time_zones() {
  try { return Intl.supportedValuesOf("timeZone").join("\n"); } catch (e) { return ""; }
}
export function now_ms() { return Date.now(); }
export function local_date_time(iso) {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString();
}
export function utc_offset_minutes(iso) {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? 0 : -d.getTimezoneOffset();
}
export function read_cookie(name) {
  const prefix = name + "=";
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith(prefix)) { return decodeURIComponent(item.slice(prefix.length)); }
  }
  return "";
}
export function download_text(file_name, text, mime) {
  const blob = new Blob([text], { type: mime });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = file_name;
  a.rel = "external";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
export function focus_element(id) {
  const el = document.getElementById(id);
  if (el && el.focus) { el.focus(); }
}
export function element_width(id) {
  const el = document.getElementById(id);
  return el ? el.clientWidth : 0;
}
let refreshing = null;
export function refresh_session() {
  if (!refreshing) {
    const headers = { accept: "application/json" };
    const token = read_cookie("allmetrics_csrf");
    if (token) { headers["x-csrf-token"] = token; }
    refreshing = fetch("/api/v1/auth/refresh", { method: "POST", headers, credentials: "same-origin" })
      .then((response) => response.ok, () => false)
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}
let on_route = null;
function go_to(url, replace) {
  if (replace) { history.replaceState(null, "", url); } else { history.pushState(null, "", url); }
  if (!replace) { window.scrollTo(0, 0); }
  if (on_route) { on_route(location.pathname + location.search); }
}
export function install_router(callback) {
  on_route = callback;
  window.addEventListener("popstate", () => callback(location.pathname + location.search));
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.altKey
        || event.ctrlKey || event.shiftKey) { return; }
    const a = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (!a || a.target || a.hasAttribute("download")) { return; }
    if ((a.getAttribute("rel") || "").split(/\s+/).includes("external")) { return; }
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) { return; }
    event.preventDefault();
    if (url.pathname + url.search === location.pathname + location.search && url.hash) {
      location.hash = url.hash;
      return;
    }
    go_to(url.pathname + url.search + url.hash, false);
  });
}
export function navigate(url, replace) { go_to(url, replace); }
export function current_path() {
  return window.location.pathname + window.location.search;
}
"#)]
extern "C" {
    fn sleep_promise(ms: f64) -> js_sys::Promise;
    fn browser_time_zone() -> String;
    fn today_in(tz: &str) -> String;
    fn time_zones() -> String;
    fn now_ms() -> f64;
    fn local_date_time(iso: &str) -> String;
    fn utc_offset_minutes(iso: &str) -> f64;
    fn read_cookie(name: &str) -> String;
    fn download_text(file_name: &str, text: &str, mime: &str);
    fn focus_element(id: &str);
    fn element_width(id: &str) -> f64;
    fn current_path() -> String;
    #[wasm_bindgen(js_name = install_router)]
    fn install_router_js(on_change: &wasm_bindgen::closure::Closure<dyn Fn(String)>);
    #[wasm_bindgen(js_name = navigate)]
    fn navigate_js(url: &str, replace: bool);
    #[wasm_bindgen(js_name = refresh_session)]
    fn refresh_session_promise() -> js_sys::Promise;
}

/// Intercepts clicks on same-origin links (not `rel="external"`, `download` or with a target) and
/// the back and forward buttons; `on_change` gets the new path and query string.
pub fn install_router(on_change: impl Fn(String) + 'static) {
    let closure = wasm_bindgen::closure::Closure::<dyn Fn(String)>::new(on_change);
    install_router_js(&closure);
    // The app lives as long as the page.
    closure.forget();
}

/// Shows `url` (path and query) without reloading: a new history entry, or in place.
pub fn navigate(url: &str, replace: bool) {
    navigate_js(url, replace);
}

/// `POST /api/v1/auth/refresh` with the refresh cookie (and the CSRF header). Calls made while
/// one is in flight share it: refresh tokens are single use, so a second request would look like
/// a stolen token to the server and end the session.
pub async fn refresh_session() -> bool {
    wasm_bindgen_futures::JsFuture::from(refresh_session_promise())
        .await
        .ok()
        .and_then(|value| value.as_bool())
        .unwrap_or(false)
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let _ = wasm_bindgen_futures::JsFuture::from(sleep_promise(f64::from(ms))).await;
}

/// The browser's IANA time zone (`Europe/Paris`), `UTC` when unknown.
pub fn time_zone() -> String {
    browser_time_zone()
}

/// Today's date (`YYYY-MM-DD`) in a time zone.
pub fn today(tz: &str) -> String {
    today_in(tz)
}

/// Every IANA time zone the browser knows (may be empty on old browsers).
pub fn all_time_zones() -> Vec<String> {
    time_zones()
        .split('\n')
        .filter(|zone| !zone.is_empty())
        .map(str::to_string)
        .collect()
}

/// Seconds since the epoch.
pub fn now_seconds() -> i64 {
    (now_ms() / 1000.0) as i64
}

/// The browser's UTC offset, in seconds east of UTC, at an RFC 3339 instant (0 when it does not
/// parse): the offset of that day, daylight saving time included.
pub fn utc_offset_seconds(iso: &str) -> i64 {
    (utc_offset_minutes(iso) as i64) * 60
}

/// An RFC 3339 time in the browser's locale and zone, for tooltips.
pub fn local_time(iso: &str) -> String {
    local_date_time(iso)
}

/// The value of a readable cookie, if set.
pub fn cookie(name: &str) -> Option<String> {
    Some(read_cookie(name)).filter(|value| !value.is_empty())
}

/// Saves `text` as a file (Blob + object URL + a temporary download link).
pub fn download(file_name: &str, text: &str, mime: &str) {
    download_text(file_name, text, mime);
}

/// Moves keyboard focus to the element with this id.
pub fn focus(id: &str) {
    focus_element(id);
}

/// The rendered width in pixels of the element with this id (0 when absent).
pub fn width_of(id: &str) -> f64 {
    element_width(id)
}

/// The current path and query string (`/dashboards/3?x=1`).
pub fn location_path() -> String {
    current_path()
}
