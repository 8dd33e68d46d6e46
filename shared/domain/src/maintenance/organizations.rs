//! Walking every organization page by page, from a job's checkpoint: the jobs that work
//! organization by organization (counters, plugin backfill) share it.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::DomainError;
use dispatch_store::item::string_attribute;
use dispatch_store::keys::{self, collection};
use dispatch_store::schema::LIST1;
use dispatch_store::{Attributes, Store};

/// Organizations read per page.
const PAGE: usize = 100;

/// One organization of a page, and the checkpoint that says "done up to here".
#[derive(Debug, Clone)]
pub struct Position {
    pub slug: String,
    /// The cursor to save once this organization is done.
    pub cursor: String,
}

/// The next page of organizations after `cursor` (by name, from the organizations list);
/// empty at the end. Hidden organizations are not in the list. A checkpoint that cannot be
/// read (written by another build) starts the pass again from the beginning.
pub async fn page_after(store: &Store, cursor: Option<&str>) -> Result<Vec<Position>, DomainError> {
    let start = cursor.and_then(|cursor| match decode(cursor) {
        Ok(start) => Some(start),
        Err(error) => {
            tracing::warn!(%error, "starting the pass again from the beginning");
            None
        }
    });
    let page = store
        .query_keys(LIST1, collection::ORGANIZATIONS, start, PAGE, true)
        .await?;
    Ok(page
        .keys
        .iter()
        .filter_map(|key| {
            let slug = string_attribute(key, keys::attr::PK)?
                .strip_prefix("ORG#")?
                .to_owned();
            Some(Position {
                slug,
                cursor: encode(key),
            })
        })
        .collect())
}

/// The key of a list entry as a checkpoint: a JSON object of its string attributes.
fn encode(key: &Attributes) -> String {
    let strings: BTreeMap<&str, &str> = key
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.as_s().ok()?.as_str())))
        .collect();
    serde_json::to_string(&strings).unwrap_or_default()
}

fn decode(cursor: &str) -> Result<Attributes, DomainError> {
    let strings: BTreeMap<String, String> = serde_json::from_str(cursor).map_err(|error| {
        DomainError::Internal(anyhow::anyhow!("unreadable job checkpoint: {error}"))
    })?;
    Ok(strings
        .into_iter()
        .map(|(name, value)| (name, AttributeValue::S(value)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_gives_back_the_key_it_was_made_from() {
        let key: Attributes = [
            ("pk", "ORG#acme"),
            ("sk", "ORG"),
            ("list_pk", "ORGS"),
            ("list_sk1", "acme#0000000003"),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), AttributeValue::S(v.to_owned())))
        .collect();
        assert_eq!(decode(&encode(&key)).unwrap(), key);
        assert!(decode("not json").is_err());
    }
}
