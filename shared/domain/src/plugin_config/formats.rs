//! The `uri` and `email` formats, accepting exactly what the `jsonschema` crate (0.59) accepted
//! when configurations were validated with it, so that no configuration stored then is refused
//! now, and none refused then is stored now (the `crosscheck` tests compare the two).
//!
//! `uri` is RFC 3986's absolute URI as `fluent-uri` parses it (`jsonschema` checks the same
//! grammar, and falls back to `fluent-uri` itself for IP literals). `email` is the
//! `email_address` parse with an ASCII local part, and a domain that is an IP literal or a
//! hostname whose `xn--` labels decode to valid IDNA labels: `jsonschema`'s own checks,
//! reimplemented here because they are not public API (Punycode itself is the `idna` crate's).

use std::net::{Ipv4Addr, Ipv6Addr};

use email_address::EmailAddress;
use unicode_general_category::{GeneralCategory, get_general_category};

/// An absolute URI (`scheme:` and the rest), as RFC 3986 writes it: no spaces, no raw
/// non-ASCII, percent-encodings complete.
pub(super) fn is_uri(text: &str) -> bool {
    fluent_uri::Uri::parse(text).is_ok()
}

/// An address `local@domain`.
pub(super) fn is_email(text: &str) -> bool {
    // `email_address` refuses an empty quoted local part, which RFC 5321 allows.
    if let Some(domain) = text.strip_prefix("\"\"@") {
        return is_email(&format!("\"a\"@{domain}"));
    }
    let Ok(address) = text.parse::<EmailAddress>() else {
        return false;
    };
    address.local_part().is_ascii() && is_email_domain(address.domain())
}

fn is_email_domain(domain: &str) -> bool {
    let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) else {
        return is_hostname(domain);
    };
    // RFC 5321 tags are case-insensitive.
    match literal.get(..5) {
        Some(tag) if tag.eq_ignore_ascii_case("IPv6:") => literal[5..].parse::<Ipv6Addr>().is_ok(),
        _ => literal.parse::<Ipv4Addr>().is_ok(),
    }
}

/// RFC 1123 labels of letters, digits and inner hyphens; `xn--` labels must be A-labels.
fn is_hostname(hostname: &str) -> bool {
    if hostname.is_empty() || hostname.len() > 253 || hostname.ends_with('.') {
        return false;
    }
    hostname.split('.').all(|label| {
        let bytes = label.as_bytes();
        let ascii = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-');
        // RFC 5891: hyphens in the 3rd and 4th positions only in an A-label.
        let punycode = label.len() >= 4 && label.starts_with("xn--");
        ascii
            && !(label.len() >= 4 && &bytes[2..4] == b"--" && !punycode)
            && (!punycode
                || idna::punycode::decode_to_string(&label[4..]).is_some_and(|u| is_idna_label(&u)))
    })
}

/// Code points after which RFC 5892 (A.2) allows a ZERO WIDTH JOINER: the viramas.
const VIRAMAS: &[char] = &[
    '\u{094D}',
    '\u{09CD}',
    '\u{0A4D}',
    '\u{0ACD}',
    '\u{0B4D}',
    '\u{0BCD}',
    '\u{0C4D}',
    '\u{0CCD}',
    '\u{0D4D}',
    '\u{0DCA}',
    '\u{0E3A}',
    '\u{0F84}',
    '\u{1039}',
    '\u{1714}',
    '\u{1734}',
    '\u{17D2}',
    '\u{1A60}',
    '\u{1B44}',
    '\u{1BAA}',
    '\u{1BF2}',
    '\u{1BF3}',
    '\u{2D7F}',
    '\u{A806}',
    '\u{A8C4}',
    '\u{A953}',
    '\u{ABED}',
    '\u{10A3F}',
    '\u{11046}',
    '\u{1107F}',
    '\u{110B9}',
    '\u{11133}',
    '\u{111C0}',
    '\u{11235}',
    '\u{112EA}',
    '\u{1134D}',
    '\u{11442}',
    '\u{114C2}',
    '\u{115BF}',
    '\u{1163F}',
    '\u{116B6}',
    '\u{1172B}',
    '\u{11839}',
    '\u{119E0}',
    '\u{11A34}',
    '\u{11A47}',
    '\u{11A99}',
    '\u{11C3F}',
    '\u{11D44}',
    '\u{11D45}',
    '\u{11D97}',
];

/// A decoded A-label: no leading mark, RFC 5892's contextual rules, and only letters, marks
/// and digits beyond ASCII.
fn is_idna_label(label: &str) -> bool {
    use GeneralCategory::{EnclosingMark, NonspacingMark, SpacingMark};
    let mut chars = label.chars().peekable();
    if chars.peek().is_some_and(|&first| {
        matches!(
            get_general_category(first),
            SpacingMark | NonspacingMark | EnclosingMark
        )
    }) {
        return false;
    }
    let (mut previous, mut katakana_middle_dot, mut kana_or_han) = (None, false, false);
    let (mut arabic_indic, mut extended_arabic_indic) = (false, false);
    while let Some(current) = chars.next() {
        let next = chars.peek().copied();
        let valid = match current {
            '\u{200D}' => previous.is_some_and(|p| VIRAMAS.contains(&p)),
            '\u{00B7}' => previous == Some('l') && next == Some('l'),
            '\u{0375}' => next.is_some_and(|n| ('\u{0370}'..='\u{03FF}').contains(&n)),
            '\u{05F3}' | '\u{05F4}' => {
                previous.is_some_and(|p| ('\u{0590}'..='\u{05FF}').contains(&p))
            }
            '\u{30FB}' => {
                katakana_middle_dot = true;
                true
            }
            '\u{3040}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{4E00}'..='\u{9FFF}' => {
                kana_or_han = true;
                true
            }
            '\u{0660}'..='\u{0669}' => {
                arabic_indic = true;
                true
            }
            '\u{06F0}'..='\u{06F9}' => {
                extended_arabic_indic = true;
                true
            }
            '\u{0640}'
            | '\u{07FA}'
            | '\u{302E}'
            | '\u{302F}'
            | '\u{3031}'..='\u{3035}'
            | '\u{303B}' => false,
            '\u{200C}' | '\u{06FD}' | '\u{06FE}' | '\u{0F0B}' | '\u{3007}' => true,
            other => other.is_ascii() || is_pvalid_category(get_general_category(other)),
        };
        if !valid {
            return false;
        }
        previous = Some(current);
    }
    // A KATAKANA MIDDLE DOT needs kana or Han beside it; the two Arabic digit sets never mix.
    (!katakana_middle_dot || kana_or_han) && !(arabic_indic && extended_arabic_indic)
}

/// RFC 5892's PVALID, by general category: letters, combining marks, decimal digits.
fn is_pvalid_category(category: GeneralCategory) -> bool {
    use GeneralCategory::*;
    matches!(
        category,
        UppercaseLetter
            | LowercaseLetter
            | TitlecaseLetter
            | ModifierLetter
            | OtherLetter
            | NonspacingMark
            | SpacingMark
            | DecimalNumber
    )
}
