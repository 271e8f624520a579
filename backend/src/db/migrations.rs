//! The schema's migrations, embedded at build time by `build.rs` from `migrations/sqlite` and
//! `migrations/postgres` (same file names, each in its database's dialect).

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::SqlStr;

/// `(version, description, SQL)` of each migration file, in version order.
type Files = &'static [(i64, &'static str, &'static str)];

const SQLITE: Files = include!(concat!(env!("OUT_DIR"), "/migrations_sqlite.rs"));
const POSTGRES: Files = include!(concat!(env!("OUT_DIR"), "/migrations_postgres.rs"));

/// SQLite's migrations.
pub fn sqlite() -> Migrator {
    migrator(SQLITE)
}

/// PostgreSQL's migrations.
pub fn postgres() -> Migrator {
    migrator(POSTGRES)
}

/// The migrator sqlx's `migrate!` would build from the same files: the same versions,
/// descriptions and checksums, so databases migrated by either agree.
fn migrator(files: Files) -> Migrator {
    Migrator::with_migrations(
        files
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_have_the_same_migrations_in_order() {
        let versions = |files: Files| files.iter().map(|f| (f.0, f.1)).collect::<Vec<_>>();
        assert_eq!(versions(SQLITE), versions(POSTGRES));
        assert!(SQLITE.len() >= 11);
        assert!(SQLITE.windows(2).all(|pair| pair[0].0 < pair[1].0));
        assert_eq!(SQLITE[0].1, "users");
        assert!(SQLITE[0].2.contains("CREATE TABLE"));
    }

    /// sqlx's own reading of a migrations folder (what its `migrate!` macro embeds) gives the
    /// same versions, descriptions and checksums: databases migrated before keep validating.
    #[tokio::test]
    async fn agree_with_sqlx_reading_the_folders() {
        for (folder, ours) in [("sqlite", sqlite()), ("postgres", postgres())] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../migrations")
                .join(folder);
            let theirs = Migrator::new(path).await.unwrap();
            let summary = |migrator: &Migrator| {
                migrator
                    .iter()
                    .map(|m| {
                        (
                            m.version,
                            m.description.to_string(),
                            m.checksum.to_vec(),
                            m.no_tx,
                            m.migration_type,
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(summary(&ours), summary(&theirs), "{folder}");
        }
    }
}
