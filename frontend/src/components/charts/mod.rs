//! Charts drawn as SVG by Leptos components.

pub mod layout;
pub mod stacked_bar;
