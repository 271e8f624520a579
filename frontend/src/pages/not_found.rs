use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p class="muted">"There is nothing at this address."</p>
        <A href="/">"Go home"</A>
    }
}
