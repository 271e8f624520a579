//! Type-erased reactive views: every `dynamic(move || ...)` shares one compiled `Render`
//! implementation (a boxed closure returning `AnyView`) instead of one per closure type, which
//! keeps the wasm small. Leptos does the same for literal closures under `erase_components`.

use std::sync::{Arc, Mutex};

use leptos::prelude::*;

pub type Dynamic = Arc<Mutex<dyn FnMut() -> AnyView + Send>>;

pub fn dynamic<V>(mut render: impl FnMut() -> V + Send + 'static) -> Dynamic
where
    V: IntoView + 'static,
{
    Arc::new(Mutex::new(move || render().into_any()))
}

/// A failure message held in a signal, shown while set.
#[component]
pub fn FailureText(
    message: RwSignal<Option<String>>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    dynamic(move || {
        message.get().map(|text| {
            view! {
                <p class="status-error" role="alert" data-testid=testid.unwrap_or("failure")>
                    {text}
                </p>
            }
        })
    })
}
