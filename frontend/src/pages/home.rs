use leptos::prelude::*;

use crate::api;

#[component]
pub fn HomePage() -> impl IntoView {
    let health = LocalResource::new(api::get_health);
    view! {
        <h1>"Home"</h1>
        <section class="card">
            <h2>"Server"</h2>
            <Transition fallback=|| view! { <p class="muted">"Checking the server…"</p> }>
                {move || {
                    health
                        .get()
                        .map(|result| match result {
                            Ok(status) => {
                                view! { <p class="status-ok">"API status: " {status.status}</p> }
                                    .into_any()
                            }
                            Err(failure) => {
                                view! { <p class="status-error" role="alert">{failure.message}</p> }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}
