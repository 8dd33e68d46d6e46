//! Login throttling as users and attackers meet it: correct logins in parallel are never
//! refused, guesses are counted before they are checked, a source locks only itself out of an
//! account, and `Retry-After` is the real wait.

use std::sync::Arc;

use dispatch_domain::auth::throttle::{
    ACCOUNT_DELAY_AFTER, IP_LIMIT, IP_WINDOW, PAIR_LIMIT, PAIR_WINDOW,
};
use dispatch_store::keys;
use http::StatusCode;
use serde_json::json;

use crate::auth::login_event;
use crate::helpers::{TestApp, TestResponse, call_event, json_request, spawn_app};

const PASSWORD: &str = "correct horse battery";
const WRONG: &str = "wrong password!";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> TestResponse {
    let router = dispatch_auth::router(app.state.clone()).unwrap();
    call_event(&router, &login_event(ip, email, password)).await
}

/// Waits for the next account × source window when this one ends within 20 s, so that a
/// test's failures all fall in one window.
async fn within_one_pair_window() {
    let left = PAIR_WINDOW - now() % PAIR_WINDOW;
    if left < 20 {
        tokio::time::sleep(std::time::Duration::from_secs(left as u64 + 1)).await;
    }
}

/// Seeds this window's item of source `ip` at its limit (1,000 real failures would take
/// minutes).
async fn seed_ip_at_limit(app: &TestApp, ip: &str) {
    let window = now() / IP_WINDOW;
    app.store
        .client()
        .put_item()
        .table_name(app.store.table())
        .set_item(Some(
            dispatch_store::Item::bare(&keys::login_throttle_ip(ip, window), "LoginThrottle")
                .with_number("failed", IP_LIMIT)
                .with_number("free", 0)
                .into_attributes(),
        ))
        .send()
        .await
        .unwrap();
}

fn retry_after(response: &TestResponse) -> i64 {
    response.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn correct_logins_in_parallel_are_never_refused() {
    let app = Arc::new(spawn_app().await);
    app.register("worker@example.com", PASSWORD).await;
    let mut statuses = Vec::new();
    // 48 logins, 12 at a time, all from one source: more than that source's failure limit.
    for _ in 0..4 {
        let round: Vec<_> = (0..12)
            .map(|_| {
                let app = app.clone();
                tokio::spawn(async move {
                    let response =
                        login_from(&app, "192.0.2.10", "worker@example.com", PASSWORD).await;
                    (response.status, response.body)
                })
            })
            .collect();
        for login in round {
            statuses.push(login.await.unwrap());
        }
    }
    let refused: Vec<_> = statuses
        .iter()
        .filter(|(status, _)| *status != StatusCode::OK)
        .collect();
    assert!(refused.is_empty(), "{} refused: {refused:?}", refused.len());
}

#[tokio::test]
async fn parallel_guesses_never_overshoot_the_limit_of_their_source() {
    let app = Arc::new(spawn_app().await);
    app.register("target@example.com", PASSWORD).await;
    within_one_pair_window().await;
    let guesses: Vec<_> = (0..3 * PAIR_LIMIT)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                login_from(&app, "192.0.2.20", "target@example.com", WRONG)
                    .await
                    .status
            })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(checked, PAIR_LIMIT, "guesses answered as wrong passwords");
    // Even the right password is refused from that source now, without revealing it.
    let locked = login_from(&app, "192.0.2.20", "target@example.com", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_source_locks_only_itself_out_and_is_told_the_real_wait() {
    let app = spawn_app().await;
    app.register("erin@example.com", PASSWORD).await;
    within_one_pair_window().await;
    for attempt in 0..PAIR_LIMIT {
        let response = login_from(&app, "203.0.113.1", "erin@example.com", WRONG).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }
    let before = app.state.passwords().verifications();
    let started = now();
    let locked = login_from(&app, "203.0.113.1", "erin@example.com", PASSWORD).await;
    assert_eq!(
        (locked.status, locked.body["detail"][0]["msg"].as_str()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed login attempts. Please try again later.")
        )
    );
    assert_eq!(
        app.state.passwords().verifications(),
        before,
        "a refused login runs no argon2"
    );
    let window_end = (started / PAIR_WINDOW + 1) * PAIR_WINDOW;
    let wait = retry_after(&locked);
    assert!(
        (window_end - now() - 1..=window_end - started).contains(&wait),
        "Retry-After {wait}, window ends in {}",
        window_end - started
    );
    // The user, from anywhere else, logs in at once.
    let user = login_from(&app, "198.51.100.7", "erin@example.com", PASSWORD).await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.body);

    // An unknown email is refused the same way, with the same body.
    for _ in 0..PAIR_LIMIT {
        login_from(&app, "203.0.113.1", "ghost@example.com", WRONG).await;
    }
    let ghost = login_from(&app, "203.0.113.1", "ghost@example.com", WRONG).await;
    assert_eq!((ghost.status, &ghost.body), (locked.status, &locked.body));
}

#[tokio::test]
async fn failures_from_many_sources_slow_an_account_down_but_never_lock_it() {
    let app = spawn_app().await;
    app.register("famous@example.com", PASSWORD).await;
    // An attacker spreads guesses over many sources, each below its own limit.
    let delay = dispatch_domain::auth::throttle::delay_after(ACCOUNT_DELAY_AFTER).unwrap();
    for i in 0..ACCOUNT_DELAY_AFTER {
        let ip = format!("198.18.{}.{}", i / 4, i % 4);
        let response = login_from(&app, &ip, "famous@example.com", WRONG).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Now every source waits a moment after the latest failure...
    let delayed = login_from(&app, "198.51.100.9", "famous@example.com", PASSWORD).await;
    assert_eq!(delayed.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&delayed);
    assert!(
        (1..=delay).contains(&wait),
        "Retry-After {wait}, delay {delay}"
    );
    // ...and the user gets in once it has passed.
    tokio::time::sleep(std::time::Duration::from_secs(wait as u64 + 1)).await;
    let user = login_from(&app, "198.51.100.9", "famous@example.com", PASSWORD).await;
    assert_eq!(user.status, StatusCode::OK, "{}", user.body);
}

#[tokio::test]
async fn a_source_ip_over_its_limit_is_refused_whatever_the_account() {
    let app = spawn_app().await;
    app.register("gina@example.com", PASSWORD).await;
    seed_ip_at_limit(&app, "203.0.113.9").await;
    let locked = login_from(&app, "203.0.113.9", "gina@example.com", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    // Another IP is not affected; X-Forwarded-For is never believed.
    let other = login_from(&app, "198.51.100.1", "gina@example.com", PASSWORD).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
}

#[tokio::test]
async fn change_password_checks_the_current_password_under_the_same_throttle() {
    let app = spawn_app().await;
    let token = app.register("ivan@example.com", PASSWORD).await;
    let me = app
        .send(crate::helpers::authed(
            "GET",
            "/api/v1/default/auth/me",
            &token,
        ))
        .await;
    let id = me.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/default/users/{id}/change-password");
    let change = |current: &str| {
        json_request(
            "POST",
            &path,
            &json!({"current_password": current, "new_password": "New Password 9"}),
            Some(&token),
        )
    };
    for _ in 0..PAIR_LIMIT {
        let wrong = app.send(change(WRONG)).await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    }
    // Guessing through change-password locked this source out of the account: the right
    // password no longer helps, here or at login.
    let refused = app.send(change(PASSWORD)).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
    assert_eq!(
        app.login("ivan@example.com", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_source_the_account_knows_is_never_delayed_and_strangers_take_turns() {
    let app = Arc::new(spawn_app().await);
    app.register("known@example.com", PASSWORD).await;
    // The user's own device logged in before the attack.
    let home = "192.0.2.77";
    let before = login_from(&app, home, "known@example.com", PASSWORD).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    for i in 0..ACCOUNT_DELAY_AFTER {
        let ip = format!("198.19.{}.{}", i / 4, i % 4);
        let response = login_from(&app, &ip, "known@example.com", WRONG).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // A stranger is delayed; the user's device is not.
    let stranger = login_from(&app, "203.0.113.200", "known@example.com", PASSWORD).await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS);
    let home_again = login_from(&app, home, "known@example.com", PASSWORD).await;
    assert_eq!(home_again.status, StatusCode::OK, "{}", home_again.body);

    // Once the delay has passed, ten strangers guessing at the same moment get one check.
    tokio::time::sleep(std::time::Duration::from_secs(
        retry_after(&stranger) as u64 + 1,
    ))
    .await;
    let guesses: Vec<_> = (0..10)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let ip = format!("198.20.0.{i}");
                login_from(&app, &ip, "known@example.com", WRONG)
                    .await
                    .status
            })
        })
        .collect();
    let mut checked = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            StatusCode::UNPROCESSABLE_ENTITY => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(checked, 1, "one attempt per delay from unknown sources");
}

/// Behind the template's CloudFront distribution every request comes from an edge address.
/// With the edge's value configured, a request that carries it is counted at the viewer
/// address the edge names, so one locked-out viewer does not lock out everyone behind the
/// same edge; a request that names a viewer without the value (a client calling API Gateway
/// directly) is counted at its real source, whatever it names.
#[tokio::test]
async fn behind_the_trusted_edge_each_viewer_is_counted_and_a_forged_viewer_is_not_believed() {
    use dispatch_domain::trusted_edge::{
        SECRET_HEADER, SETTING, TrustedEdge, VIEWER_ADDRESS_HEADER,
    };
    const EDGE_VALUE: &str = "5f0c8e7a-1b2d-4c3e-9f8a-7b6c5d4e3f2a";
    const EDGE_IP: &str = "130.176.0.10";
    let app = crate::helpers::spawn_app_with(|config| {
        config.trusted_edge =
            TrustedEdge::from_lookup(|name| (name == SETTING).then(|| EDGE_VALUE.to_owned()))
                .unwrap();
    })
    .await;
    app.register("hugo@example.com", PASSWORD).await;
    seed_ip_at_limit(&app, "203.0.113.77").await;
    let router = dispatch_auth::router(app.state.clone()).unwrap();
    let through_edge = |viewer: &str, value: &str| {
        let mut event: serde_json::Value =
            serde_json::from_str(&login_event(EDGE_IP, "hugo@example.com", PASSWORD)).unwrap();
        event["headers"][VIEWER_ADDRESS_HEADER] = json!(viewer);
        event["headers"][SECRET_HEADER] = json!(value);
        event.to_string()
    };

    let locked = call_event(&router, &through_edge("203.0.113.77:51234", EDGE_VALUE)).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    let neighbour = call_event(&router, &through_edge("198.51.100.23:40000", EDGE_VALUE)).await;
    assert_eq!(neighbour.status, StatusCode::OK, "{}", neighbour.body);

    // Without the value, the named viewer is ignored: counted at the source, which is free.
    let wrong = "5f0c8e7a-1b2d-4c3e-9f8a-000000000000";
    let forged = call_event(&router, &through_edge("198.51.100.23", wrong)).await;
    assert_eq!(forged.status, StatusCode::OK, "{}", forged.body);
    // …and a direct caller cannot hide behind another viewer: lock its source, then name a
    // free viewer without the value.
    let direct = |viewer: &str| {
        let mut event: serde_json::Value =
            serde_json::from_str(&login_event("203.0.113.77", "hugo@example.com", PASSWORD))
                .unwrap();
        event["headers"][VIEWER_ADDRESS_HEADER] = json!(viewer);
        event.to_string()
    };
    let refused = call_event(&router, &direct("198.51.100.23")).await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.body
    );
}

/// An IPv6 host usually holds a whole /64 and could use a new address for every attempt: the
/// source is the /64, so its addresses share one limit, and the next /64 is another source.
#[tokio::test]
async fn an_ipv6_source_is_its_64() {
    let app = spawn_app().await;
    app.register("ines@example.com", PASSWORD).await;
    seed_ip_at_limit(&app, "2001:db8:1:2::/64").await;
    for address in ["2001:db8:1:2::77", "2001:db8:1:2:ffff:1:2:3"] {
        let refused = login_from(&app, address, "ines@example.com", PASSWORD).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{address}");
    }
    let next = login_from(&app, "2001:db8:1:3::77", "ines@example.com", PASSWORD).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
}
