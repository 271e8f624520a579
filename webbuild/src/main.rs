//! `webbuild IN.wasm OUT_DIR`: writes `<name>.js` (ES module glue, `--target web`) and
//! `<name>_bg.wasm` for the wasm32 build IN, as `wasm-bindgen --target web --no-typescript` does.
//! scripts/tools.sh (`build_frontend`) runs it, then wasm-opt, then names the files after their
//! content.

use std::path::PathBuf;

use anyhow::{bail, Context};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(input), Some(out_dir), None) = (args.next(), args.next(), args.next()) else {
        bail!("usage: webbuild IN.wasm OUT_DIR");
    };
    let (input, out_dir) = (PathBuf::from(input), PathBuf::from(out_dir));
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .typescript(false)
        .generate(&out_dir)
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;
    Ok(())
}
