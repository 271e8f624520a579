use leptos::prelude::*;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="empty-state card" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p class="muted">"There is nothing at this address."</p>
            <a href="/" class="button">"Go home"</a>
        </section>
    }
}
