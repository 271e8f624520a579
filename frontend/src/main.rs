//! The allmetrics web app (Leptos, client-side rendered).

mod api;
mod app;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
