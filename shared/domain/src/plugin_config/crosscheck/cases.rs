//! The instances the cross-check tries in every field.

use serde_json::{Value, json};

/// Strings to try in every string field: lengths, non-ASCII, URIs and addresses, odd ones.
pub(super) const STRINGS: &[&str] = &[
    "",
    " ",
    "a",
    "é",
    "😀",
    "日本語",
    "value",
    "cloud",
    "server",
    "Cloud",
    "ops@example.com",
    "https://example.com",
    "https://example.com/a?b=c#d",
    "http://[::1]:8080/",
    "http://[v1.x]/",
    "http://[::zz]/",
    "http://[1.2.3.4]/",
    "mailto:ops@example.com",
    "urn:isbn:0451450523",
    "a:",
    "1a:b",
    "a_b:c",
    "//example.com",
    "/relative",
    "example.com",
    "http://exa mple.com",
    "http://example.com/%zz",
    "http://example.com/%4",
    "http://example.com/%41",
    "http://é.com",
    "http://u:p@h:80/p",
    "http://h:8a/",
    "http://h:65536/",
    "http://a@b@c/",
    "http://h/[x]",
    "file:///etc/hosts",
    "HTTPS://EXAMPLE.COM",
    "a@b",
    "a@b.c",
    "a.b@c.d",
    ".a@b.c",
    "a.@b.c",
    "a..b@c.d",
    "\"a b\"@c.d",
    "\"\"@c.d",
    "é@c.d",
    "a@é.com",
    "a@[1.2.3.4]",
    "a@[IPv6:::1]",
    "a@[ipv6:::1]",
    "a@[1.2.3]",
    "a@[::1]",
    "a@-b.com",
    "a@b-.com",
    "a@b..com",
    "a@b.com.",
    "a@xn--bcher-kva.de",
    "a@xn--a.com",
    "a@ab--c.com",
    "a@1.2.3.4",
    "@b.com",
    "a@",
    "a@@b.c",
    "ops+tag@example.co.uk",
    "ops@example.com ",
    " ops@example.com",
];

/// Values of every other JSON type, and numbers at the catalogue's limits and beyond `f64`'s
/// exact integers.
pub(super) fn others() -> Vec<Value> {
    let mut values = vec![
        json!(null),
        json!(true),
        json!(false),
        json!([]),
        json!(["a"]),
        json!({}),
        json!({"a": 1}),
    ];
    for n in [
        json!(0),
        json!(-1),
        json!(1),
        json!(7),
        json!(10),
        json!(11),
        json!(10.0),
        json!(10.5),
        json!(9.999),
        json!(-0.5),
        json!(1e300),
        json!(u64::MAX),
        json!(i64::MIN),
    ] {
        values.push(n);
    }
    values
}

/// A value each field accepts: the first option, the first branch, a valid URI or address.
pub(super) fn good(field: &Value, root: &Value) -> Value {
    if let Some(target) = field["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        return good(&root["$defs"][target], root);
    }
    if let Some(first) = field["anyOf"].get(0) {
        return good(first, root);
    }
    if let Some(first) = field["enum"].get(0) {
        return first.clone();
    }
    match (field["type"].as_str(), field["format"].as_str()) {
        (Some("string"), Some("uri")) => json!("https://example.com/api"),
        (Some("string"), Some("email")) => json!("ops@example.com"),
        (Some("string"), _) => json!("value"),
        (Some("integer"), _) => json!(1),
        (Some("boolean"), _) => json!(true),
        _ => Value::Null,
    }
}
