//! Organizations: Dispatch's tenants.

use serde::{Deserialize, Serialize};

use super::text::NameStr;
use super::types::Invalid;
use crate::time::Timestamp;

/// Path segments under `/api/v1` that can never be organization slugs.
pub const RESERVED_SLUGS: &[&str] = &["organizations", "healthcheck", "docs"];

/// The longest slug: like a name, it fits every key that holds it (`PROJECT#<slug>#<id>` in a
/// 1,024-byte sort key). A name's slug can be longer than the name (`﷽` spells 30 letters).
pub const SLUG_MAX: usize = super::text::NAME_MAX;

/// An organization slug: 3 to 250 word characters (Dispatch's `OrganizationSlug`, whose
/// pattern `^[\w]+(?:_[\w]+)*$` accepts exactly the strings of word characters), and not a
/// fixed path segment. Slugs are immutable: they key the organization's items.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrganizationSlug(String);

impl OrganizationSlug {
    /// Validates a slug.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let count = raw.chars().take(SLUG_MAX + 1).count();
        if count < 3 {
            return Err(Invalid::new(
                "String should have at least 3 characters",
                "string_too_short",
            ));
        }
        if count > SLUG_MAX {
            return Err(Invalid::new(
                format!("The organization slug should have at most {SLUG_MAX} characters"),
                "string_too_long",
            ));
        }
        if !raw.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(Invalid::new(
                "String should match pattern '^[\\w]+(?:_[\\w]+)*$'",
                "string_pattern_mismatch",
            ));
        }
        if RESERVED_SLUGS.contains(&raw) {
            return Err(Invalid::new(
                format!("'{raw}' is reserved and cannot be an organization slug"),
                "value_error",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A slug read back from the table: trusted as written, not validated again (see
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

impl std::fmt::Display for OrganizationSlug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Dispatch's slug of a name (python-slugify with `_`): transliterated to ASCII, lower-cased,
/// apostrophes dropped, every run of other characters turned into one `_`, trimmed.
pub fn slugify(name: &str) -> String {
    let ascii = deunicode::deunicode(name).to_lowercase().replace('\'', "");
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    slug.trim_end_matches('_').to_owned()
}

/// An organization as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: i32,
    #[serde(deserialize_with = "super::stored::text")]
    pub name: NameStr,
    #[serde(deserialize_with = "super::stored::slug")]
    pub slug: OrganizationSlug,
    pub description: Option<String>,
    pub default: bool,
    pub banner_enabled: bool,
    pub banner_color: Option<String>,
    pub banner_text: Option<String>,
    /// The project new members are linked to (Dispatch's "default project" of the organization).
    #[serde(default)]
    pub default_project_id: Option<i32>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
    /// Members, projects and plugin instances, kept exact by the transactions that add or
    /// remove them: the `total` of those lists costs no extra read.
    #[serde(default)]
    pub member_count: i64,
    #[serde(default)]
    pub project_count: i64,
    /// The ids of its projects (a number set: project creation `ADD`s, deletion `DELETE`s), so
    /// that a members page reads the projects it shows in the same batch as the members.
    /// Empty before schema version 3's migration: readers then read the projects afterwards.
    #[serde(
        default,
        with = "serde_dynamo::number_set",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub project_ids: Vec<i32>,
    /// The ids of its deleted projects (project deletion `ADD`s them), so that a reader of a
    /// link to one knows it is gone without reading it.
    #[serde(
        default,
        with = "serde_dynamo::number_set",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub deleted_project_ids: Vec<i32>,
    #[serde(default)]
    pub instance_count: i64,
    /// Set by `DELETE` while its items are being removed: from then on the organization is
    /// gone for every client (see `domain::organization_delete`).
    #[serde(default)]
    pub deleted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_python_slugify() {
        assert_eq!(slugify("My Org!"), "my_org");
        assert_eq!(slugify("Ünïcode Org"), "unicode_org");
        assert_eq!(slugify("Foo--Bar  baz"), "foo_bar_baz");
        assert_eq!(slugify("ab!"), "ab");
        assert_eq!(slugify("default"), "default");
    }

    #[test]
    fn slugs_need_three_word_characters_and_no_reserved_segment() {
        assert!(OrganizationSlug::parse("my_org").is_ok());
        assert!(OrganizationSlug::parse("ab").is_err());
        assert!(OrganizationSlug::parse("my-org").is_err());
        assert!(OrganizationSlug::parse("organizations").is_err());
        assert!(OrganizationSlug::parse(&"a".repeat(SLUG_MAX)).is_ok());
        assert_eq!(
            OrganizationSlug::parse(&slugify(&"\u{FDFA}".repeat(10)))
                .unwrap_err()
                .kind,
            "string_too_long"
        );
        assert!(OrganizationSlug::parse("zero\u{200B}width").is_err());
    }
}
