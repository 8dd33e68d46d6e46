//! A fault-injecting HTTP proxy between an SDK client (DynamoDB, Secrets Manager) and the local
//! stack, so that tests can make the store misbehave the ways the real one does: throttling,
//! slowness, requests that never answer, and connections that drop before or after the write
//! was applied. The SDK only sees HTTP, so faults injected here reach the code under test
//! exactly as AWS's would, retries and all.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::header::{self, HeaderMap, HeaderName};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[cfg(test)]
mod tests;

/// A proxy on a local port. Dropping it stops accepting, releases stalled requests and closes
/// its connections, so a test cannot leave work hanging behind it.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

/// What to do to the requests of one operation (or all of them), how many times and how long.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The `X-Amz-Target` operation, e.g. `TransactWriteItems`; `None` matches every request.
    pub operation: Option<String>,
    /// What happens to the requests it applies to.
    pub fault: Fault,
    /// How many requests it still applies to; `None` is unlimited.
    pub uses: Option<usize>,
    /// When it stops applying (and when the requests it stalls are released); `None` is never.
    pub until: Option<Instant>,
}

/// A way for the store to misbehave, as an SDK client sees it.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Never answers: the request is not forwarded; the connection is held open until the
    /// client gives up, the rule's window ends, or `heal()` (then closed without a response).
    /// This is a store that hangs, which only the client's timeouts can end.
    Stall,
    /// Waits, then forwards and answers normally: a slow store.
    Delay(Duration),
    /// Closes the connection without a response, BEFORE forwarding (nothing applied): the SDK
    /// sees a dispatch failure ("connection closed before message completed", of kind
    /// `TransientError`), which its standard retry retries, writes included.
    ResetBeforeForwarding,
    /// Forwards the request (DynamoDB applies it), then closes the client's connection without
    /// a response: the client cannot know it was applied, and the SDK's retry sends it again.
    ResetAfterForwarding,
    /// Answers HTTP 400 with DynamoDB's JSON error body for the given code, without forwarding,
    /// e.g. "ThrottlingException", "ProvisionedThroughputExceededException",
    /// "RequestLimitExceeded" (all of which the SDK's standard retry retries as throttling).
    Throttle(&'static str),
}

impl Rule {
    /// Every request, every time, until healed.
    pub fn always(fault: Fault) -> Rule {
        Rule {
            operation: None,
            fault,
            uses: None,
            until: None,
        }
    }

    /// Every request of one operation, until healed; narrow it with `times`/`for_window`.
    pub fn on(operation: &str, fault: Fault) -> Rule {
        Rule {
            operation: Some(operation.to_owned()),
            ..Rule::always(fault)
        }
    }

    /// Only the next `uses` matching requests.
    pub fn times(self, uses: usize) -> Rule {
        Rule {
            uses: Some(uses),
            ..self
        }
    }

    /// Only for `window` from now; a `Stall` is released (closed) when it ends.
    pub fn for_window(self, window: Duration) -> Rule {
        Rule {
            until: Some(Instant::now() + window),
            ..self
        }
    }

    fn is_live(&self, now: Instant) -> bool {
        self.uses != Some(0) && self.until.is_none_or(|until| until > now)
    }

    fn matches(&self, operation: &str) -> bool {
        self.operation
            .as_deref()
            .is_none_or(|wanted| wanted == operation)
    }
}

impl FaultProxy {
    /// Listens on 127.0.0.1:0 and forwards every request to `upstream` (e.g.
    /// "http://127.0.0.1:8101"). A port of its own per test, so tests can run in parallel.
    pub async fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let addr = listener.local_addr().expect("the fault proxy's address");
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            rules: Mutex::default(),
            counts: Mutex::default(),
            heals: watch::Sender::new(0),
            closed: watch::Sender::new(false),
        });
        let accept = tokio::spawn(accept(listener, Arc::clone(&shared)));
        FaultProxy {
            addr,
            shared,
            accept,
        }
    }

    /// "http://127.0.0.1:<port>" — the endpoint to give an SDK client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a rule; rules are checked in insertion order, the first matching one with uses left
    /// (and inside its window) applies, so a narrow rule added first overrides a broad one.
    pub fn inject(&self, rule: Rule) {
        self.shared.rules().push(rule);
    }

    /// Removes every rule (normal service); requests currently being stalled are released by
    /// closing their connection, as a recovering store's load balancer would.
    pub fn heal(&self) {
        let mut rules = self.shared.rules();
        rules.clear();
        // Under the rules lock, which `judge` reads the generation under: a stall judged before
        // this is released, and a request judged after it finds no rule.
        self.shared.heals.send_modify(|generation| *generation += 1);
    }

    /// How many requests reached the proxy for an operation (e.g. "TransactWriteItems",
    /// "GetSecretValue"), whatever their fate: the attempts the client made, retries included.
    pub fn seen(&self, operation: &str) -> usize {
        self.shared
            .counts()
            .get(operation)
            .map_or(0, |count| count.seen)
    }

    /// How many requests of that operation were forwarded to the upstream (and so may have been
    /// applied): the writes the store may hold, whatever the client was told.
    pub fn forwarded(&self, operation: &str) -> usize {
        self.shared
            .counts()
            .get(operation)
            .map_or(0, |count| count.forwarded)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.heal();
        self.shared.closed.send_replace(true);
    }
}

struct Shared {
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
    rules: Mutex<Vec<Rule>>,
    counts: Mutex<HashMap<String, Counts>>,
    /// Bumped by every `heal()`: a stall ends when the generation it started in is over.
    heals: watch::Sender<u64>,
    /// Set when the proxy is dropped: every connection closes.
    closed: watch::Sender<bool>,
}

#[derive(Default)]
struct Counts {
    seen: usize,
    forwarded: usize,
}

/// A response, or `Err` to close the connection without one: hyper shuts down an HTTP/1
/// connection whose service fails, which its client sees as closed before the response.
type Answer = Result<Response<Full<Bytes>>, io::Error>;

fn dropped() -> io::Error {
    io::Error::other("connection dropped by the fault proxy")
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let mut closed = shared.closed.subscribe();
            let service = hyper::service::service_fn({
                let shared = Arc::clone(&shared);
                move |request| Arc::clone(&shared).handle(request)
            });
            // Keep-alive is on by default: the SDK pools its connections.
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                // A failed connection (a fault's `dropped()`, the client gone) is just closed.
                _ = connection => {}
                _ = closed.wait_for(|closed| *closed) => {}
            }
        });
    }
}

impl Shared {
    fn rules(&self) -> MutexGuard<'_, Vec<Rule>> {
        self.rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<String, Counts>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn count(&self, operation: &str, update: impl FnOnce(&mut Counts)) {
        update(self.counts().entry(operation.to_owned()).or_default());
    }

    /// The fault for this request, if any (using one of its rule's uses), the rule's end, and
    /// the heal generation it was judged in.
    fn judge(&self, operation: &str) -> (Option<Fault>, Option<Instant>, u64) {
        let mut rules = self.rules();
        let now = Instant::now();
        rules.retain(|rule| rule.is_live(now));
        let generation = *self.heals.borrow();
        match rules.iter_mut().find(|rule| rule.matches(operation)) {
            Some(rule) => {
                if let Some(uses) = &mut rule.uses {
                    *uses -= 1;
                }
                (Some(rule.fault.clone()), rule.until, generation)
            }
            None => (None, None, generation),
        }
    }

    async fn handle(self: Arc<Self>, request: Request<Incoming>) -> Answer {
        let operation = operation(request.headers());
        self.count(&operation, |count| count.seen += 1);
        let (parts, body) = request.into_parts();
        let body = body.collect().await.map_err(|_| dropped())?.to_bytes();
        let request = Request::from_parts(parts, body);
        let (fault, until, generation) = self.judge(&operation);
        match fault {
            None => Ok(self.forward(&operation, request).await),
            Some(Fault::Delay(delay)) => {
                tokio::time::sleep(delay).await;
                Ok(self.forward(&operation, request).await)
            }
            Some(Fault::Stall) => {
                let mut heals = self.heals.subscribe();
                let window = async {
                    match until {
                        Some(until) => tokio::time::sleep_until(until.into()).await,
                        None => std::future::pending().await,
                    }
                };
                // The client giving up closes the connection, and hyper drops this future.
                tokio::select! {
                    _ = heals.wait_for(|current| *current != generation) => {}
                    () = window => {}
                }
                Err(dropped())
            }
            Some(Fault::ResetBeforeForwarding) => Err(dropped()),
            Some(Fault::ResetAfterForwarding) => {
                // The whole response is read: the upstream has applied the request.
                self.forward(&operation, request).await;
                Err(dropped())
            }
            Some(Fault::Throttle(code)) => Ok(throttled(code)),
        }
    }

    /// Sends the request to the upstream and reads its whole answer. The client's `Host` header
    /// is kept: SigV4 signed it (the local stack does not check, but a verifying one would).
    async fn forward(&self, operation: &str, request: Request<Bytes>) -> Response<Full<Bytes>> {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
        parts.uri = match format!("{}{path}", self.upstream).parse::<Uri>() {
            Ok(uri) => uri,
            Err(error) => return bad_gateway(&error),
        };
        strip_hop_by_hop(&mut parts.headers);
        self.count(operation, |count| count.forwarded += 1);
        let response = match self
            .client
            .request(Request::from_parts(parts, Full::new(body)))
            .await
        {
            Ok(response) => response,
            Err(error) => return bad_gateway(&error),
        };
        let (mut parts, body) = response.into_parts();
        match body.collect().await {
            Ok(body) => {
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, Full::new(body.to_bytes()))
            }
            Err(error) => bad_gateway(&error),
        }
    }
}

/// The operation named by `X-Amz-Target`: `DynamoDB_20120810.TransactWriteItems` →
/// `TransactWriteItems`, `secretsmanager.GetSecretValue` → `GetSecretValue`.
fn operation(headers: &HeaderMap) -> String {
    let target = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok());
    target
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or_default()
        .to_owned()
}

/// Headers about one hop's connection, not the message: the proxy frames bodies itself, and the
/// client's connection must stay reusable whatever the upstream's does.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in [
        header::CONNECTION,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
        header::TRANSFER_ENCODING,
        header::TE,
        header::TRAILER,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
}

/// DynamoDB's answer to a throttled request. The SDK takes the code from `x-amzn-ErrorType`
/// when present, else from `__type` (after the `#`); both are set.
fn throttled(code: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"),
        "message": format!("{code} injected by the fault proxy"),
    });
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
        .header("x-amzn-ErrorType", code)
        .header("x-amzn-RequestId", uuid::Uuid::new_v4().to_string())
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid throttling response")
}

/// The upstream could not be reached or answered garbage: a 502 the SDK retries as transient.
fn bad_gateway(error: &dyn std::fmt::Display) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("fault proxy: {error}"))));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
