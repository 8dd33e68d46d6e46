//! Opening the window between an item pass's scan and its write on purpose rather than by
//! timing: interceptors on the runner's client that recognise the pass's write of an item (an
//! `UpdateItem` that sets a given attribute) and run another writer's change just before it is
//! sent, or fail it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use dispatch_store::migrate::BoxFuture;
use dispatch_store::{Key, Store};
use serde_json::Value;

use crate::helpers::{TestApp, sdk_config};

/// The key of the item the pass is about to write, if `context` is one of its writes (an
/// `UpdateItem` naming `attribute`).
pub fn placing(context: &BeforeTransmitInterceptorContextRef<'_>, attribute: &str) -> Option<Key> {
    let request = context.request();
    if !request
        .headers()
        .get("x-amz-target")?
        .ends_with(".UpdateItem")
    {
        return None;
    }
    let body: Value = serde_json::from_slice(request.body().bytes()?).ok()?;
    let names = body["ExpressionAttributeNames"].as_object()?;
    let text = |name: &str| {
        body["Key"][name]["S"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    names.values().any(|name| name == attribute).then(|| Key {
        pk: text("pk"),
        sk: text("sk"),
    })
}

/// Other writers' changes, each run once, to completion, just before the pass's write of its
/// item (one that sets `attribute`) is sent.
#[derive(Clone)]
pub struct Meanwhile {
    pub attribute: &'static str,
    pub changes: Arc<Mutex<HashMap<Key, BoxFuture<'static, ()>>>>,
}

impl Meanwhile {
    pub fn new(attribute: &'static str) -> Self {
        Self {
            attribute,
            changes: Arc::default(),
        }
    }

    /// Runs `change` just before the pass writes `key`.
    pub fn before(&self, key: Key, change: BoxFuture<'static, ()>) {
        self.changes.lock().unwrap().insert(key, change);
    }

    /// Whether every change ran.
    pub fn all_ran(&self) -> bool {
        self.changes.lock().unwrap().is_empty()
    }
}

impl std::fmt::Debug for Meanwhile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meanwhile")
    }
}

impl Intercept for Meanwhile {
    fn name(&self) -> &'static str {
        "Meanwhile"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let change = placing(context, self.attribute)
            .and_then(|key| self.changes.lock().unwrap().remove(&key));
        if let Some(change) = change {
            // The write waits for the change, as if it had come between the scan and the write.
            tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(change));
        }
        Ok(())
    }
}

/// A store on `app`'s table whose client sends every request through `interceptor`.
pub async fn store_with(app: &TestApp, interceptor: impl Intercept + 'static) -> Store {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config().await)
        .interceptor(interceptor)
        .build();
    Store::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        app.store.table().to_owned(),
    )
}
