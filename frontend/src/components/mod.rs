//! Components shared by the pages (one per file).

pub mod account_picker;
pub mod admin_objects;
pub mod admin_sources;
pub mod admin_users;
pub mod charts;
pub mod confirm_action;
pub mod dashboard_view;
pub mod dynamic;
pub mod fetch;
pub mod interval_control;
pub mod metric_card;
pub mod nav;
pub mod period_control;
pub mod require_auth;
pub mod series_notes;
pub mod source_card;
pub mod status;
pub mod subscription_metric_form;
pub mod subscription_settings_form;
pub mod sync_panel;
