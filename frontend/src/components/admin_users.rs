//! Admin: every account.

use leptos::prelude::*;

use crate::api;
use crate::components::fetch::{fetched, Fetch};

#[component]
pub fn AdminUsers() -> impl IntoView {
    let users = Fetch::new(|| Box::pin(api::admin::list_users()));
    let body = fetched(users, "Loading users…", move |list| {
        let rows = list
            .into_iter()
            .map(|user| {
                view! {
                    <tr data-testid="admin-user">
                        <td>{user.email}</td>
                        <td>
                            <span class="badge">{user.role.as_str()}</span>
                        </td>
                        <td class="muted">{user.created_at}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    view! {
        <section aria-labelledby="admin-users-title">
            <h2 id="admin-users-title">"Users"</h2>
            <div class="card">
                {body}
            </div>
        </section>
    }
}
