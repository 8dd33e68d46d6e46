//! The `uri` and `email` formats against `jsonschema`'s, on generated strings.

use serde_json::json;

use super::reference;
use crate::plugin_config::formats;

/// A small deterministic generator (no dependency on `rand` for reproducible cases).
fn lcg(state: &mut u64) -> usize {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*state >> 33) as usize
}

#[test]
fn uri_and_email_formats_accept_what_jsonschema_accepted() {
    let uri = reference(&json!({"type": "string", "format": "uri"}));
    let email = reference(&json!({"type": "string", "format": "email"}));
    let check = |text: &str| {
        let value = json!(text);
        assert_eq!(formats::is_uri(text), uri.is_valid(&value), "uri {text:?}");
        assert_eq!(
            formats::is_email(text),
            email.is_valid(&value),
            "email {text:?}"
        );
    };
    // Any text of URI characters and a few others.
    let alphabet: Vec<char> = "aZ09:/?#[]@!$&'()*+,;=%-._~ Fé".chars().collect();
    let mut state = 7;
    for _ in 0..20_000 {
        let length = lcg(&mut state) % 24;
        let text: String = (0..length)
            .map(|_| alphabet[lcg(&mut state) % alphabet.len()])
            .collect();
        check(&text);
    }
    // URI shapes: scheme, authority, host, port, path, query, fragment.
    let parts: [&[&str]; 8] = [
        &["", "http:", "a+b-c.d:", "1a:", "a_b:", ":", "A:"],
        &["", "//", "///", "/", "./", "../", ":"],
        &["", "user@", "u:p@", "@", "a@b@", "%41@", "%4@"],
        &[
            "",
            "host",
            "127.0.0.1",
            "[::1]",
            "[v1.x]",
            "[::ffff:1.2.3.4]",
            "[1::2::3]",
            "h%2F",
            "é",
        ],
        &["", ":", ":80", ":8a", ":65536", "::"],
        &[
            "", "/", "/a/b", "a:b/c", "/a:b", "//x", "/%20", "/%", "/a b", "/[x]",
        ],
        &["", "?", "?q=1&r", "?a?b/c", "?%zz", "?#"],
        &["", "#", "#f", "#a/b?c", "#a#b", "#%41"],
    ];
    for _ in 0..20_000 {
        let text: String = (parts.iter())
            .map(|choices| choices[lcg(&mut state) % choices.len()])
            .collect();
        check(&text);
    }
    // Addresses: local parts by domains, with Punycode labels that break IDNA's rules.
    let locals = [
        "a",
        "A.b",
        "a+b",
        "\"a b\"",
        "\"\"",
        "é",
        "a..b",
        ".a",
        "a.",
        "",
        "a@b",
        "!#$%&'*+-/=?^_`{|}~",
        "\"é\"",
        "\"a\\\"b\"",
    ];
    let long_label = "x".repeat(63);
    let long_local = "l".repeat(65);
    let long_domain = format!(
        "{long_label}.{long_label}.{long_label}.{}.com",
        "y".repeat(57)
    );
    let labels = [
        "bcher-kva",
        "mnchen-3ya",
        "ll-0ea",
        "ab-0ea",
        "uvae4p",
        "a-jib",
        "4db4e",
        "a-0jc",
        "ccks3v",
        "ab-3n4a",
        "8hbc",
        "8hb40a",
        "dmbc",
        "11b2ezcw70k",
        "ab-m1t",
        "a-wbb",
        "ab-hvd",
        "n3h",
        "fiq228c",
        "zca",
        "a-usa",
        "14g",
        "ab-j1t",
        "w6j",
        "x-1cg",
        "a",
        "-a",
        "a-",
        "99999999999",
    ];
    let mut domains: Vec<String> = [
        "example.com",
        "EXAMPLE.COM",
        "a",
        "a-b.c",
        "-a.com",
        "a-.com",
        "a..com",
        "a.com.",
        "[1.2.3.4]",
        "[IPv6:::1]",
        "[ipv6:::1]",
        "[IPv6:1::2::3]",
        "[1.2.3]",
        "[::1]",
        "[01.2.3.4]",
        "ab--c.com",
        "XN--bcher-kva.de",
        "1.2.3.4",
        "é.com",
        "a_b.com",
        long_label.as_str(),
        long_domain.as_str(),
    ]
    .map(str::to_owned)
    .to_vec();
    domains.push(format!("{long_label}x.com"));
    domains.push(format!("{long_domain}m"));
    domains.extend(labels.iter().map(|label| format!("xn--{label}.example")));
    for local in locals.iter().copied().chain([long_local.as_str()]) {
        for domain in &domains {
            check(&format!("{local}@{domain}"));
        }
    }
    for text in ["a", "a@", "@a", "a@b@c.d", "a b@c.d", "a@b c.d", "a@b.c\n"] {
        check(text);
    }
    // The IDNA rules are reached, both ways.
    for (label, valid) in [
        ("bcher-kva", true),
        ("ll-0ea", true),
        ("ab-0ea", false),
        ("ccks3v", true),
        ("ab-3n4a", false),
        ("11b2ezcw70k", true),
        ("ab-m1t", false),
        ("a-wbb", false),
        ("n3h", false),
        ("8hb40a", false),
    ] {
        assert_eq!(
            formats::is_email(&format!("a@xn--{label}.example")),
            valid,
            "{label}"
        );
    }
}
