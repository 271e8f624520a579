//! Data from the API for a component: a small stand-in for `LocalResource` + `<Transition>`
//! that costs far less wasm per use.
//!
//! [`Fetch::new`] runs its source in an effect, so it reloads whenever a signal the source reads
//! changes; while it reloads, the last answer stays on screen (the `<Transition>` behaviour) and
//! [`Fetch::loading`] is true. Answers that arrive out of order are dropped. [`fetched`] renders
//! the three states: loading, the API's error message (with a retry), or the data.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use leptos::prelude::*;

use crate::api::ApiFailure;
use crate::components::dynamic::{dynamic, Dynamic};
use crate::components::status::{ErrorMessage, Loading};

/// What a source returns: one boxed future type per data type, whatever the call site.
pub type ApiFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiFailure>>>>;

pub struct Fetch<T: Send + Sync + 'static> {
    pub value: RwSignal<Option<Result<T, ApiFailure>>>,
    pub loading: RwSignal<bool>,
    trigger: RwSignal<u64>,
}

impl<T: Send + Sync + 'static> Clone for Fetch<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Fetch<T> {}

impl<T: Clone + Send + Sync + 'static> Fetch<T> {
    pub fn new(source: impl Fn() -> ApiFuture<T> + 'static) -> Self {
        let fetch = Fetch {
            value: RwSignal::new(None),
            loading: RwSignal::new(true),
            trigger: RwSignal::new(0),
        };
        let latest = Arc::new(AtomicU64::new(0));
        Effect::new(move |_| {
            fetch.trigger.track();
            let future = source();
            let generation = latest.fetch_add(1, Ordering::Relaxed) + 1;
            let latest = latest.clone();
            fetch.loading.try_set(true);
            leptos::task::spawn_local(async move {
                let result = future.await;
                if latest.load(Ordering::Relaxed) == generation {
                    fetch.value.try_set(Some(result));
                    fetch.loading.try_set(false);
                }
            });
        });
        fetch
    }

    /// Loads again (the current answer stays until the new one arrives).
    pub fn refetch(&self) {
        self.trigger.try_update(|n| *n += 1);
    }

    /// The data, when the last answer was a success.
    pub fn ok(&self) -> Option<T> {
        self.value.get().and_then(Result::ok)
    }

    /// A callback that reloads, for retry buttons.
    pub fn retry(&self) -> Callback<()> {
        let this = *self;
        Callback::new(move |_| this.refetch())
    }
}

/// Loading (`label`), the error with a retry button, or `render(data)`.
pub fn fetched<T, V>(
    fetch: Fetch<T>,
    label: &'static str,
    render: impl Fn(T) -> V + Send + Sync + 'static,
) -> Dynamic
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    dynamic(move || match fetch.value.get() {
        None => view! { <Loading label=label/> }.into_any(),
        Some(Ok(data)) => render(data).into_any(),
        Some(Err(failure)) => {
            view! { <ErrorMessage failure=failure retry=fetch.retry()/> }.into_any()
        }
    })
}
