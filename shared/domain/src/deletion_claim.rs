//! Who is removing a hidden organization: a claim on its pending-deletion marker.
//!
//! Two removers of one organization at once (the `DELETE` request still working, and the
//! maintenance job that sees the marker) would each list the partition once and delete from
//! their list. The one that finishes frees the name; if the organization is created again
//! under that name meanwhile, the other's later batches would delete the new organization's
//! items (same slug, same keys). So a remover first claims the marker (a token and an expiry,
//! set conditionally), checks before every batch that it still holds the claim, and removes the
//! marker only under its claim. The request's claim lasts longer than a request can live, the
//! job's longer than its budget, so a claim lapses only when its remover is gone.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::time::epoch_ms;
use dispatch_store::item::{number_attribute, string_attribute};
use dispatch_store::{Expression, Item, Key, Store, StoreError};

/// How long a `DELETE` request's claim lasts: well beyond the function's timeout.
pub const REQUEST_CLAIM: Duration = Duration::from_secs(60);

const TOKEN: &str = "claim_token";
const UNTIL: &str = "claim_until";

/// A claim this process holds on a marker.
#[derive(Debug, Clone)]
pub struct Claim {
    marker: Key,
    token: String,
}

impl Claim {
    /// A new claim for `hold` on the marker `marker` is about to write: returns the claim and
    /// the marker item carrying it.
    pub fn on_new_marker(marker: Item, hold: Duration) -> (Self, Item) {
        let token = format!("{:032x}", rand::random::<u128>());
        let until = epoch_ms() + hold.as_millis() as i64;
        let claim = Self {
            marker: marker.key(),
            token: token.clone(),
        };
        let item = marker.with_str(TOKEN, token).with_number(UNTIL, until);
        (claim, item)
    }

    /// Claims an existing marker for `hold`, unless another remover's claim is still running.
    pub async fn take(
        store: &Store,
        marker: &Key,
        hold: Duration,
    ) -> Result<Option<Self>, StoreError> {
        let token = format!("{:032x}", rand::random::<u128>());
        let now = epoch_ms();
        let update = Expression::new("SET #token = :token, #until = :until")
            .name("#token", TOKEN)
            .name("#until", UNTIL)
            .value(":token", AttributeValue::S(token.clone()))
            .value(
                ":until",
                AttributeValue::N((now + hold.as_millis() as i64).to_string()),
            );
        let free = Expression::item_present().and(
            Expression::new("attribute_not_exists(#until) OR #until < :now")
                .value(":now", AttributeValue::N(now.to_string())),
        );
        match store.update_if(marker, update, free, "claim").await {
            Ok(()) => Ok(Some(Self {
                marker: marker.clone(),
                token,
            })),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether this process still holds the claim (a consistent read of the marker).
    pub async fn held(&self, store: &Store) -> Result<bool, StoreError> {
        let Some(marker) = store.get_attributes(&self.marker).await? else {
            return Ok(false);
        };
        Ok(
            string_attribute(&marker, TOKEN).as_deref() == Some(self.token.as_str())
                && number_attribute(&marker, UNTIL).is_some_and(|until| until > epoch_ms()),
        )
    }

    /// The condition that the marker still carries this claim (for the final transaction).
    pub fn still_mine(&self) -> Expression {
        Expression::new("#claim_token = :claim_token")
            .name("#claim_token", TOKEN)
            .value(":claim_token", AttributeValue::S(self.token.clone()))
    }

    /// Gives the claim up (a run stopping at its budget): the next remover need not wait for
    /// it to lapse.
    pub async fn release(&self, store: &Store) -> Result<(), StoreError> {
        let update = Expression::new("SET #until = :lapsed")
            .name("#until", UNTIL)
            .value(":lapsed", AttributeValue::N("0".into()));
        match store
            .update_if(&self.marker, update, self.still_mine(), "claim")
            .await
        {
            Err(StoreError::ConditionFailed { .. }) | Ok(()) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The marker's key.
    pub fn marker(&self) -> &Key {
        &self.marker
    }
}
