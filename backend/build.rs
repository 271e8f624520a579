//! Embeds the SQL migrations of both databases into the binary: for each folder of
//! `migrations/`, `$OUT_DIR/migrations_<folder>.rs` lists every `<version>_<name>.sql` file as
//! `(version, description, include_str!(file))`, in version order. This is what sqlx's `migrate!`
//! macro does, without compiling sqlx's macro crate (and a second copy of both database drivers
//! for it) in every build.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for database in ["sqlite", "postgres"] {
        let folder = manifest_dir.join("..").join("migrations").join(database);
        println!("cargo:rerun-if-changed={}", folder.display());
        let listing = listing(&folder)?;
        std::fs::write(out_dir.join(format!("migrations_{database}.rs")), listing)?;
    }
    Ok(())
}

/// The Rust slice expression of one folder's migrations.
fn listing(folder: &Path) -> Result<String, Box<dyn Error>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".sql") else {
            continue;
        };
        let (version, description) = stem
            .split_once('_')
            .ok_or_else(|| format!("{name}: a migration is named <version>_<description>.sql"))?;
        let version: i64 = version
            .parse()
            .map_err(|_| format!("{name}: the version before `_` is not a number"))?;
        files.push((version, description.replace('_', " "), path.canonicalize()?));
    }
    files.sort();
    if let Some(pair) = files.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        return Err(format!("two migrations share the version {}", pair[0].0).into());
    }
    let mut listing = String::from("&[\n");
    for (version, description, path) in files {
        writeln!(
            listing,
            "    ({version}, {description:?}, include_str!({:?})),",
            path.display().to_string()
        )?;
    }
    listing.push(']');
    Ok(listing)
}
