//! Pages behind sign-in: signed-out visitors go to `/login?next=<the page they wanted>`.

use allmetrics_common::Role;
use leptos::prelude::*;

use crate::auth::use_auth;
use crate::browser;
use crate::components::dynamic::dynamic;
use crate::components::status::Loading;
use crate::router::redirect;
use frontend_logic::url::login_url;

#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    Effect::new(move |_| {
        if auth.checked.get() && !auth.signed_in() {
            redirect(&login_url(&browser::location_path()));
        }
    });
    dynamic(move || {
        if !auth.checked.get() {
            view! { <Loading label="Checking your session…"/> }.into_any()
        } else if auth.signed_in() {
            children().into_any()
        } else {
            view! { <Loading label="Taking you to sign in…"/> }.into_any()
        }
    })
}

/// Admin-only content (the API enforces it too).
#[component]
pub fn RequireAdmin(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    view! {
        <RequireAuth>
            {
                let children = children.clone();
                move || {
                    let admin = auth
                        .user
                        .with(|user| user.as_ref().is_some_and(|u| u.role == Role::Admin));
                    if admin {
                        children().into_any()
                    } else {
                        view! {
                            <div class="notice error" role="alert">
                                <p>"This page is for administrators."</p>
                            </div>
                        }
                            .into_any()
                    }
                }
            }
        </RequireAuth>
    }
}
