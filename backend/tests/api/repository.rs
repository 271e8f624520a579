//! The repository's story, told once and run on both backends.

use allmetrics::db::{self, Backend, DbError};
use allmetrics::domain::{NewUser, Role};

use crate::helpers::{test_settings, DbKind, TestDatabase};
use crate::on_both_databases;

on_both_databases!(repository_story);

async fn repository_story(kind: DbKind) {
    let database = TestDatabase::create(kind).await;
    let settings = test_settings(&database.url, std::env::temp_dir());
    let repository = db::connect(&settings.database).await.unwrap();
    repository.migrate().await.unwrap();
    // Migrating again is a no-op.
    repository.migrate().await.unwrap();
    assert_eq!(
        repository.backend(),
        match kind {
            DbKind::Sqlite => Backend::Sqlite,
            DbKind::Postgres => Backend::Postgres,
        }
    );
    repository.ping().await.unwrap();
    assert!(repository.list_users().await.unwrap().is_empty());

    let new_user = |email: &str, role| NewUser {
        email: email.into(),
        password_hash: format!("hash-of-{email}"),
        role,
    };
    let first = repository
        .create_user(new_user("Ann@Example.com", None))
        .await
        .unwrap();
    assert_eq!(first.role, Role::Admin, "the first user is admin");
    assert_eq!(first.email, "Ann@Example.com");
    let second = repository
        .create_user(new_user("bob@example.com", None))
        .await
        .unwrap();
    assert_eq!(second.role, Role::User, "later users are not");
    let promoted = repository
        .create_user(new_user("carol@example.com", Some(Role::Admin)))
        .await
        .unwrap();
    assert_eq!(promoted.role, Role::Admin);

    let duplicate = repository
        .create_user(new_user(" ANN@example.COM ", None))
        .await;
    assert!(
        matches!(duplicate, Err(DbError::Conflict("email"))),
        "{duplicate:?}"
    );

    let found = repository
        .user_credentials_by_email("ann@EXAMPLE.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user, first);
    assert_eq!(found.password_hash, "hash-of-Ann@Example.com");
    assert!(repository
        .user_credentials_by_email("nobody@example.com")
        .await
        .unwrap()
        .is_none());

    assert_eq!(
        repository.user_by_id(second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(
        repository
            .user_by_id(allmetrics::domain::UserId(999_999))
            .await
            .unwrap(),
        None
    );
    let users = repository.list_users().await.unwrap();
    assert_eq!(users, vec![first, second, promoted]);
    repository.close().await;
}
