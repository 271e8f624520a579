//! The Graph API nodes and lists besides insights: `/me`, `/me/adaccounts`, `/act_{id}` and
//! `/act_{id}/campaigns`, with their `fields` (unknown ones are refused, as Facebook does) and cursor paging.

use actix_web::HttpRequest;
use serde_json::{json, Map, Value};

use super::accounts::{Account, Campaign};
use super::errors::FacebookError;
use super::paging::{self, Window};

/// The one user every token belongs to.
const USER_ID: &str = "10150000000000001";
const USER_NAME: &str = "Sandbox Demo User";

/// The requested `fields` of a node, among `known` (the node's type named `node_type` in errors); `default`
/// when none are asked for.
fn fields<'a>(
    pairs: &'a [(String, String)],
    known: &[&str],
    default: &[&'static str],
    node_type: &str,
) -> Result<Vec<&'a str>, FacebookError> {
    let requested = pairs
        .iter()
        .find(|(name, _)| name == "fields")
        .map(|(_, value)| value.as_str())
        .unwrap_or_default();
    let mut fields: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|field| !field.is_empty())
        .collect();
    if fields.is_empty() {
        fields = default.to_vec();
    }
    if let Some(unknown) = fields.iter().find(|field| !known.contains(field)) {
        return Err(FacebookError::invalid_parameter(format!(
            "Tried accessing nonexisting field ({unknown}) on node type ({node_type})"
        )));
    }
    Ok(fields)
}

const ACCOUNT_FIELDS: [&str; 9] = [
    "id",
    "account_id",
    "name",
    "currency",
    "timezone_name",
    "timezone_offset_hours_utc",
    "account_status",
    "created_time",
    "business",
];

fn account_json(account: &Account, fields: &[&str]) -> Value {
    let mut object = Map::new();
    for field in fields {
        let value = match *field {
            "id" => account.node_id().into(),
            "account_id" => account.number.to_string().into(),
            "name" => account.name.into(),
            "currency" => account.currency.code().into(),
            "timezone_name" => account.timezone_name.into(),
            "timezone_offset_hours_utc" => (account.utc_offset / 3_600).into(),
            // 1: ACTIVE.
            "account_status" => 1.into(),
            "created_time" => account.timestamp(account.created_time).into(),
            "business" => json!({ "id": account.business_id, "name": account.business_name }),
            _ => continue,
        };
        object.insert((*field).to_owned(), value);
    }
    Value::Object(object)
}

/// `/me`: the user the tokens belong to (`id` and `name`).
pub(crate) fn me(pairs: &[(String, String)]) -> Result<Value, FacebookError> {
    let fields = fields(pairs, &["id", "name"], &["id", "name"], "User")?;
    let mut object = Map::new();
    for field in fields {
        let value = if field == "id" { USER_ID } else { USER_NAME };
        object.insert(field.to_owned(), value.into());
    }
    Ok(Value::Object(object))
}

/// `/me/adaccounts`: every account, in id order (default fields `id,account_id`).
pub(crate) fn ad_accounts(
    req: &HttpRequest,
    pairs: &[(String, String)],
    accounts: &[Account],
) -> Result<Value, FacebookError> {
    let fields = fields(pairs, &ACCOUNT_FIELDS, &["id", "account_id"], "AdAccount")?;
    let window = Window::parse(pairs)?;
    Ok(paging::page(req, pairs, window, accounts, |account| {
        account_json(account, &fields)
    }))
}

/// `/act_{id}` (default fields `id,account_id`).
pub(crate) fn account(
    pairs: &[(String, String)],
    account: &Account,
) -> Result<Value, FacebookError> {
    let fields = fields(pairs, &ACCOUNT_FIELDS, &["id", "account_id"], "AdAccount")?;
    Ok(account_json(account, &fields))
}

const CAMPAIGN_FIELDS: [&str; 7] = [
    "id",
    "account_id",
    "name",
    "status",
    "objective",
    "created_time",
    "start_time",
];

/// `/act_{id}/campaigns`: the campaigns with their CURRENT names, in id order.
pub(crate) fn campaigns(
    req: &HttpRequest,
    pairs: &[(String, String)],
    account: &Account,
) -> Result<Value, FacebookError> {
    let fields = fields(pairs, &CAMPAIGN_FIELDS, &["id"], "Campaign")?;
    let window = Window::parse(pairs)?;
    let mut campaigns: Vec<&Campaign> = account.campaigns.iter().collect();
    campaigns.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(paging::page(req, pairs, window, &campaigns, |campaign| {
        let created = account.timestamp(account.campaign_created(campaign));
        let mut object = Map::new();
        for field in &fields {
            let value: Value = match *field {
                "id" => campaign.id.clone().into(),
                "account_id" => account.number.to_string().into(),
                "name" => campaign.name.into(),
                "status" => "ACTIVE".into(),
                "objective" => campaign.objective.name().into(),
                _ => created.clone().into(),
            };
            object.insert((*field).to_owned(), value);
        }
        Value::Object(object)
    }))
}
