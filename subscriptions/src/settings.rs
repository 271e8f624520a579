//! The choices a metric can make where definitions differ between tools: a connection's
//! settings, as the API states them (`allmetrics_common::SubscriptionSettings`, with the
//! documented defaults).

pub use allmetrics_common::{ChurnAt, SubscriptionSettings as Settings};
