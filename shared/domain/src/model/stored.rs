//! Deserializing the validated types from the table, for the stored models' fields
//! (`#[serde(deserialize_with = "super::stored::email")]`).
//!
//! A value read back from an item was validated when it was written, and the rules have
//! tightened since (control and invisible format characters, for instance): validating again
//! could refuse an item an earlier version wrote, and lock its owner out. So a stored value is
//! trusted as written. Request bodies keep validating: they deserialize with the types' own
//! `Deserialize`, which parses. Both serialize as the same plain string, so items stay
//! byte-identical.

use serde::{Deserialize, Deserializer};

use super::text::Text;
use super::{EmailAddress, OrganizationSlug};

/// A stored email address, trusted as written.
pub fn email<'de, D: Deserializer<'de>>(deserializer: D) -> Result<EmailAddress, D::Error> {
    String::deserialize(deserializer).map(EmailAddress::from_stored)
}

/// A stored organization slug, trusted as written.
pub fn slug<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OrganizationSlug, D::Error> {
    String::deserialize(deserializer).map(OrganizationSlug::from_stored)
}

/// Stored text (a name), trusted as written.
pub fn text<
    'de,
    D: Deserializer<'de>,
    const MIN: usize,
    const MAX: usize,
    const MULTILINE: bool,
>(
    deserializer: D,
) -> Result<Text<MIN, MAX, MULTILINE>, D::Error> {
    String::deserialize(deserializer).map(Text::from_stored)
}

/// Reading the validated types as the strings they are: keys, items and views take `&str`.
macro_rules! string_like {
    ([$($generics:tt)*] $ty:ty) => {
        impl<$($generics)*> std::ops::Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                self.as_str()
            }
        }
        impl<$($generics)*> AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl<$($generics)*> From<$ty> for String {
            fn from(value: $ty) -> String {
                value.into_string()
            }
        }
        impl<$($generics)*> From<&$ty> for String {
            fn from(value: &$ty) -> String {
                value.as_str().to_owned()
            }
        }
        impl<$($generics)*> PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }
        impl<$($generics)*> PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
        impl<$($generics)*> PartialEq<String> for $ty {
            fn eq(&self, other: &String) -> bool {
                self.as_str() == other
            }
        }
    };
    ($ty:ty) => {
        string_like!([] $ty);
    };
}

string_like!(EmailAddress);
string_like!(OrganizationSlug);
string_like!([const MIN: usize, const MAX: usize, const MULTILINE: bool] Text<MIN, MAX, MULTILINE>);

#[cfg(test)]
mod tests {
    use dispatch_store::{Item, from_attributes, keys};
    use serde_json::json;

    use super::*;
    use crate::model::{Membership, Role, User, UserSettings};
    use crate::time::Timestamp;

    /// An address written before zero-width characters were refused.
    const OLD_EMAIL: &str = "a\u{200B}b@example.com";

    fn membership(email: EmailAddress, slug: OrganizationSlug) -> Membership {
        let now = Timestamp::now();
        Membership {
            user_id: 7,
            email,
            organization_id: 1,
            organization_slug: slug,
            role: Role::Member,
            projects: None,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    #[test]
    fn a_stored_value_the_rules_now_refuse_still_reads_back() {
        assert!(EmailAddress::parse(OLD_EMAIL).is_err());
        assert!(OrganizationSlug::parse("ab").is_err());
        let now = Timestamp::now();
        let user = User {
            id: 7,
            email: EmailAddress::from_stored(OLD_EMAIL.to_owned()),
            token_version: 0,
            experimental_features: false,
            settings: UserSettings::default(),
            provisioning_subject: None,
            organization_slugs: Vec::new(),
            organizations_indexed: false,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let item = Item::new(&keys::user(7), "user", &user).unwrap();
        let read: User = from_attributes(item.into_attributes()).unwrap();
        assert_eq!(read, user);
        assert_eq!(read.email.as_str(), OLD_EMAIL);

        let old = membership(
            EmailAddress::from_stored(OLD_EMAIL.to_owned()),
            OrganizationSlug::from_stored("ab".to_owned()),
        );
        let item = Item::new(&keys::membership("ab", 7), "membership", &old).unwrap();
        let read: Membership = from_attributes(item.into_attributes()).unwrap();
        assert_eq!(read, old);

        let name = "bell\u{7}name";
        assert!(crate::model::NameStr::parse(name).is_err());
        let read: crate::model::NameStr = text(json!(name)).unwrap();
        assert_eq!(read.as_str(), name);
    }

    #[test]
    fn validated_values_are_stored_as_the_plain_strings_they_were() {
        let m = membership(
            EmailAddress::parse("User@Example.COM").unwrap(),
            OrganizationSlug::parse("acme_corp").unwrap(),
        );
        let value = serde_json::to_value(&m).unwrap();
        assert_eq!(value["email"], json!("User@example.com"));
        assert_eq!(value["organization_slug"], json!("acme_corp"));
        let attrs = Item::new(&keys::membership("acme_corp", 7), "membership", &m)
            .unwrap()
            .into_attributes();
        assert_eq!(attrs["email"].as_s().unwrap(), "User@example.com");
        assert_eq!(attrs["organization_slug"].as_s().unwrap(), "acme_corp");
    }

    #[test]
    fn a_body_with_a_refused_value_is_still_refused() {
        #[derive(Debug, Deserialize)]
        struct Body {
            #[allow(dead_code)]
            email: EmailAddress,
        }
        let err = serde_json::from_value::<Body>(json!({ "email": OLD_EMAIL })).unwrap_err();
        assert!(
            err.to_string()
                .contains("invalid characters before the @-sign")
        );
    }
}
