//! Charts drawn as SVG by Leptos components.

pub mod stacked_bar;
