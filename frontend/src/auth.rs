//! The signed-in user, provided to every component at the app root.

use allmetrics_common::{Role, UserResponse};
use leptos::prelude::*;

use crate::api;
use crate::browser;

/// `user` is `None` when signed out; `checked` turns true once the start-up check answered.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    pub user: RwSignal<Option<UserResponse>>,
    pub checked: RwSignal<bool>,
}

impl Auth {
    pub fn is_admin(&self) -> bool {
        self.user
            .with(|user| user.as_ref().is_some_and(|u| u.role == Role::Admin))
    }

    pub fn signed_in(&self) -> bool {
        self.user.with(Option::is_some)
    }
}

/// Creates the context, asks the server who is signed in (renewing the session from the refresh
/// cookie when the access cookie expired: a reload keeps the user signed in), and signs the user
/// out of the app when a later call cannot renew the session.
pub fn provide_auth() -> Auth {
    let auth = Auth {
        user: RwSignal::new(None),
        checked: RwSignal::new(false),
    };
    provide_context(auth);
    leptos::task::spawn_local(async move {
        // Signed-in browsers hold the readable CSRF cookie next to the session cookies; without
        // it there is no session to ask about (and a refresh could not pass the CSRF check).
        let user = if browser::cookie(api::client::CSRF_COOKIE).is_some() {
            api::auth::me().await.ok()
        } else {
            None
        };
        auth.user.set(user);
        auth.checked.set(true);
    });
    api::client::on_session_expired(move || {
        auth.user.set(None);
    });
    auth
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
