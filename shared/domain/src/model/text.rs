//! The free text the API accepts, bounded and cleaned as it is parsed, before anything is
//! written ("parse, don't validate"). Every field has a maximum, so that an item stays far below
//! DynamoDB's 400 KB and a name fits the 1,024-byte sort keys it is part of; one-line fields
//! (names, colors, hints) refuse control and invisible format characters, which would let two
//! names look the same or hide text; multi-line fields keep tabs and newlines.
//!
//! | Type | Fields | Characters | One line |
//! |---|---|---|---|
//! | [`NameStr`] | organization and project `name` | 3 to 250 | yes |
//! | [`DisplayName`] | project `display_name` | 0 to 250 | yes |
//! | [`ShortText`] | colors, `owner_conversation`, storage folders, `report_incident_title_hint`, the plugin a client names | 0 to 255 | yes |
//! | [`BannerText`] | organization `banner_text` | 3 to 1,000 | no |
//! | [`Description`] | `description`s, `report_incident_instructions`, `report_incident_description_hint` | 0 to 10,000 | no |
//!
//! Lengths count characters after surrounding whitespace is stripped (as Dispatch strips every
//! string). A character is at most 4 bytes in UTF-8 and lower-cases to at most 4 bytes, so a
//! 250-character name is at most 1,000 bytes: `PROJECTNAME#<name>` and a list sort key
//! `<lower-cased name>#<10-digit id>` stay under 1,024 bytes. Emails (254 bytes) and slugs
//! (250 characters) are bounded by their own types.

use serde::{Deserialize, Deserializer, Serialize};
use unicode_general_category::{GeneralCategory, get_general_category};

use super::types::Invalid;

/// The longest name: 250 characters keep every key that holds one under 1,024 bytes.
pub const NAME_MAX: usize = 250;
/// The longest one-line text that is not a name (Dispatch's `String(255)` habit).
pub const SHORT_TEXT_MAX: usize = 255;
/// The longest organization banner.
pub const BANNER_MAX: usize = 1_000;
/// The longest description: three of them still make a project item under 130 KB.
pub const DESCRIPTION_MAX: usize = 10_000;

/// Stripped text of `MIN..=MAX` characters; `MULTILINE` text may hold tabs and line breaks,
/// one-line text holds no control or format character at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text<const MIN: usize, const MAX: usize, const MULTILINE: bool>(String);

/// A name (Dispatch's `NameStr`, bounded).
pub type NameStr = Text<3, NAME_MAX, false>;
/// A project's display name (may be empty).
pub type DisplayName = Text<0, NAME_MAX, false>;
/// A one-line value: a color, a conversation or folder name, a hint.
pub type ShortText = Text<0, SHORT_TEXT_MAX, false>;
/// An organization's banner (a `NameStr` in Dispatch: at least 3 characters).
pub type BannerText = Text<3, BANNER_MAX, true>;
/// A description or instructions.
pub type Description = Text<0, DESCRIPTION_MAX, true>;

impl<const MIN: usize, const MAX: usize, const MULTILINE: bool> Text<MIN, MAX, MULTILINE> {
    /// Strips and validates a value.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim();
        // Counting stops past the maximum: a 1 MB value costs no more than a long one.
        let count = text.chars().take(MAX + 1).count();
        if count < MIN {
            return Err(Invalid::new(
                format!("String should have at least {MIN} characters"),
                "string_too_short",
            ));
        }
        if count > MAX {
            return Err(too_long(MAX));
        }
        let refused = |c: char| {
            if MULTILINE {
                refused_in_text(c)
            } else {
                refused_in_line(c)
            }
        };
        if let Some(c) = text.chars().find(|c| refused(*c)) {
            return Err(refused_character(c));
        }
        Ok(Self(text.to_owned()))
    }

    /// Text read back from the table: trusted as written, not validated again (see
    /// `model::stored`).
    pub fn from_stored(stored: String) -> Self {
        Self(stored)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MIN: usize, const MAX: usize, const MULTILINE: bool> std::fmt::Display
    for Text<MIN, MAX, MULTILINE>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de, const MIN: usize, const MAX: usize, const MULTILINE: bool> Deserialize<'de>
    for Text<MIN, MAX, MULTILINE>
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(Invalid::into_de_error)
    }
}

/// Pydantic's refusal of a string over `max` characters.
pub fn too_long(max: usize) -> Invalid {
    Invalid::new(
        format!("String should have at most {max} characters"),
        "string_too_long",
    )
}

/// The refusal of a character a field does not take, naming its code point (it may not print).
pub fn refused_character(c: char) -> Invalid {
    Invalid::new(
        format!(
            "String should not contain control or invisible format characters (found U+{:04X})",
            u32::from(c)
        ),
        "string_pattern_mismatch",
    )
}

/// Characters a one-line field (a name, a slug, an email) refuses: control characters (NUL,
/// escapes, line breaks), the line and paragraph separators, and invisible format characters
/// (zero-width spaces and joiners, bidi marks, embeddings, overrides and isolates, the BOM).
pub fn refused_in_line(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || get_general_category(c) == GeneralCategory::Format
}

/// Characters a multi-line field refuses: control characters other than tab and line breaks.
/// Format characters stay: prose needs joiners (emoji) and bidi marks (mixed scripts).
pub fn refused_in_text(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stripped_and_take_3_to_250_characters() {
        assert_eq!(NameStr::parse("  abc ").unwrap().as_str(), "abc");
        assert_eq!(
            NameStr::parse(" ab  ").unwrap_err().kind,
            "string_too_short"
        );
        assert!(NameStr::parse(&"é".repeat(250)).is_ok());
        let long = NameStr::parse(&"a".repeat(251)).unwrap_err();
        assert_eq!(
            (long.msg.as_str(), long.kind),
            (
                "String should have at most 250 characters",
                "string_too_long"
            )
        );
    }

    #[test]
    fn one_line_fields_refuse_control_and_format_characters() {
        for bad in [
            "nul\0name",
            "tab\tname",
            "new\nline",
            "zero\u{200B}width",
            "joi\u{200D}ner",
            "bidi\u{202E}override",
            "isolate\u{2066}x",
            "bom\u{FEFF}x",
            "soft\u{AD}hyphen",
            "line\u{2028}sep",
            "tag\u{E0041}x",
        ] {
            let refused = ShortText::parse(bad).unwrap_err();
            assert_eq!(refused.kind, "string_pattern_mismatch", "{bad:?}");
        }
        assert!(
            NameStr::parse("a\u{202E}b c")
                .unwrap_err()
                .msg
                .contains("U+202E")
        );
        assert!(NameStr::parse("Équipe sécurité 北京 👩🏽").is_ok());
    }

    #[test]
    fn descriptions_keep_tabs_and_newlines_but_refuse_other_controls() {
        let kept = Description::parse("line one\n\tline two\r\nthree 👩‍💻").unwrap();
        assert_eq!(kept.as_str(), "line one\n\tline two\r\nthree 👩‍💻");
        assert!(Description::parse("nul\0").is_err());
        assert!(Description::parse("escape\u{1B}[31m").is_err());
        assert!(Description::parse(&"x".repeat(DESCRIPTION_MAX)).is_ok());
        assert_eq!(
            Description::parse(&"x".repeat(DESCRIPTION_MAX + 1))
                .unwrap_err()
                .msg,
            "String should have at most 10000 characters"
        );
    }

    #[test]
    fn the_longest_name_fits_every_key_that_holds_it() {
        // Every character lower-cases to at most 4 bytes (İ to the 3 bytes of "i̇").
        let widest = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .map(|c| {
                c.to_lowercase()
                    .map(char::len_utf8)
                    .sum::<usize>()
                    .max(c.len_utf8())
            })
            .max();
        assert_eq!(widest, Some(4));
        for c in ['𝐀', 'İ', '\u{10400}'] {
            let name = NameStr::parse(&c.to_string().repeat(NAME_MAX)).unwrap();
            let sort_key = dispatch_store::keys::sort_value(name.as_str(), i32::MAX);
            let guard = dispatch_store::keys::project_name_guard("slug", name.as_str());
            assert!(sort_key.len() <= 1024 && guard.sk.len() <= 1024, "{c}");
        }
    }
}
