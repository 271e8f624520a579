//! A destructive button that asks first: `label`, then `question` with `label` again (the
//! danger button) and Cancel.

use leptos::prelude::*;

use crate::components::dynamic::dynamic;

#[component]
pub fn ConfirmAction(
    question: &'static str,
    label: &'static str,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let confirm = move |_| {
        confirming.set(false);
        on_confirm.run(());
    };
    view! {
        <div class="actions">
            {dynamic(move || {
                if confirming.get() {
                    view! {
                        <span>{question}</span>
                        <button type="button" class="button small danger" on:click=confirm>
                            {label}
                        </button>
                        <button
                            type="button"
                            class="button small ghost"
                            on:click=move |_| confirming.set(false)
                        >
                            "Cancel"
                        </button>
                    }
                        .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="button small ghost"
                            on:click=move |_| confirming.set(true)
                        >
                            {label}
                        </button>
                    }
                        .into_any()
                }
            })}
        </div>
    }
}
