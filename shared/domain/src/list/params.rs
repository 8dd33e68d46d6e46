//! The list query parameters of every list endpoint (Dispatch's `CommonParameters`), parsed from
//! the raw query string because the UI repeats `sortBy[]` and `descending[]`.

use serde_json::Value;

use crate::error::{DomainError, FieldError};

/// Items per page when the client says nothing (Dispatch's default).
pub const DEFAULT_ITEMS_PER_PAGE: i64 = 5;
/// The largest page served; larger requests (and `-1`, "all") are clamped to it and continue
/// through `next`.
pub const MAX_ITEMS_PER_PAGE: usize = 500;

/// Longest search `q`: a search costs each examined item a pass per term.
pub const MAX_Q_CHARS: usize = 255;

/// One sort key: a field (possibly `Model.field`) and its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub model: Option<String>,
    pub field: String,
    pub descending: bool,
}

/// Parsed list parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub page: usize,
    /// As requested (`-1` = all), for the envelope's echo.
    pub requested_items_per_page: i64,
    /// What is served: the request clamped to `1..=MAX_ITEMS_PER_PAGE` (0 stays 0).
    pub items_per_page: usize,
    pub q: Option<String>,
    pub filter: Option<Value>,
    pub sort: Vec<SortKey>,
    pub cursor: Option<String>,
}

fn int_param(name: &str, raw: &str) -> Result<i64, DomainError> {
    raw.trim().parse::<i64>().map_err(|_| {
        DomainError::invalid(
            "Input should be a valid integer, unable to parse string as an integer",
            crate::query![name],
            "int_parsing",
        )
    })
}

fn bool_param(raw: &str, index: usize) -> Result<bool, DomainError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Ok(false),
        _ => Err(DomainError::invalid(
            "Input should be a valid boolean, unable to interpret input",
            crate::query!["descending[]", index],
            "bool_parsing",
        )),
    }
}

/// Parses a sort entry: `field`, `model.field`, or a JSON object with a `key` (Vuetify 3).
fn sort_field(raw: &str) -> (Option<String>, String) {
    let raw = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => map
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or(raw)
            .to_owned(),
        _ => raw.to_owned(),
    };
    match raw.rsplit_once('.') {
        Some((model, field)) => (
            Some(model.rsplit('.').next().unwrap_or(model).to_owned()),
            field.to_owned(),
        ),
        None => (None, raw),
    }
}

impl ListParams {
    /// Parses a raw query string; unknown parameters are ignored.
    pub fn parse(query: Option<&str>) -> Result<Self, DomainError> {
        let mut page = 1i64;
        let mut items = DEFAULT_ITEMS_PER_PAGE;
        let mut q = None;
        let mut filter = None;
        let mut sort_by = Vec::new();
        let mut descending = Vec::new();
        let mut cursor = None;
        let mut errors: Vec<FieldError> = Vec::new();
        let mut collect = |result: Result<(), DomainError>| {
            if let Err(DomainError::Invalid(details)) = result {
                errors.extend(details);
            }
        };
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match key.as_ref() {
                "page" => collect(int_param("page", &value).map(|v| page = v)),
                "itemsPerPage" => collect(int_param("itemsPerPage", &value).map(|v| items = v)),
                "q" if value.chars().nth(MAX_Q_CHARS).is_some() => {
                    collect(Err(DomainError::invalid(
                        format!("String should have at most {MAX_Q_CHARS} characters"),
                        crate::query!["q"],
                        "string_too_long",
                    )))
                }
                "q" => q = Some(value.into_owned()).filter(|v| !v.trim().is_empty()),
                "filter" if !value.trim().is_empty() => collect(
                    serde_json::from_str::<Value>(&value)
                        .map(|v| filter = Some(v))
                        .map_err(|e| {
                            DomainError::invalid(
                                format!("filter is not valid JSON: {e}"),
                                crate::query!["filter"],
                                "json_invalid",
                            )
                        }),
                ),
                "sortBy[]" | "sortBy" => sort_by.push(value.into_owned()),
                "descending[]" | "descending" => {
                    let index = descending.len();
                    collect(bool_param(&value, index).map(|v| descending.push(v)));
                }
                "cursor" => cursor = Some(value.into_owned()).filter(|v| !v.is_empty()),
                _ => {}
            }
        }
        if !(1..=2_147_483_646).contains(&page) {
            errors.push(FieldError::new(
                "Input should be greater than 0",
                crate::query!["page"],
                "greater_than",
            ));
        }
        if items < -1 {
            errors.push(FieldError::new(
                "Input should be greater than or equal to -1",
                crate::query!["itemsPerPage"],
                "greater_than_equal",
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        // Dispatch sorts only when both lists are given, pairing them by position.
        let sort = sort_by
            .iter()
            .zip(descending.iter())
            .map(|(raw, descending)| {
                let (model, field) = sort_field(raw);
                SortKey {
                    model,
                    field,
                    descending: *descending,
                }
            })
            .collect();
        let items_per_page = match items {
            -1 => MAX_ITEMS_PER_PAGE,
            n => (n as usize).min(MAX_ITEMS_PER_PAGE),
        };
        Ok(Self {
            page: page as usize,
            requested_items_per_page: items,
            items_per_page,
            q,
            filter,
            sort,
            cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uis_parameters_parse() {
        let p = ListParams::parse(Some(
            "itemsPerPage=25&sortBy[]=email&descending[]=true&q=al",
        ))
        .unwrap();
        assert_eq!(
            (p.page, p.items_per_page, p.q.as_deref()),
            (1, 25, Some("al"))
        );
        assert_eq!(
            p.sort,
            vec![SortKey {
                model: None,
                field: "email".into(),
                descending: true
            }]
        );
        let p = ListParams::parse(Some("sortBy%5B%5D=Plugin.slug&descending%5B%5D=true")).unwrap();
        assert_eq!(p.sort[0].model.as_deref(), Some("Plugin"));
        let p = ListParams::parse(Some(
            r#"sortBy[]={"key":"name","order":"asc"}&descending[]=false"#,
        ))
        .unwrap();
        assert_eq!(p.sort[0].field, "name");
    }

    #[test]
    fn defaults_all_and_clamping() {
        let p = ListParams::parse(None).unwrap();
        assert_eq!(
            (p.page, p.items_per_page, p.requested_items_per_page),
            (1, 5, 5)
        );
        assert_eq!(
            ListParams::parse(Some("itemsPerPage=-1"))
                .unwrap()
                .items_per_page,
            MAX_ITEMS_PER_PAGE
        );
        assert_eq!(
            ListParams::parse(Some("itemsPerPage=100000"))
                .unwrap()
                .items_per_page,
            MAX_ITEMS_PER_PAGE
        );
        assert!(
            ListParams::parse(Some("sortBy[]=name"))
                .unwrap()
                .sort
                .is_empty(),
            "no descending[]: no sort"
        );
    }

    #[test]
    fn bad_parameters_are_422s_naming_the_parameter() {
        for (query, loc) in [
            ("page=0", "page"),
            ("page=abc", "page"),
            ("itemsPerPage=-2", "itemsPerPage"),
            ("filter={not json", "filter"),
            ("descending[]=maybe", "descending[]"),
            (&format!("q={}", "a".repeat(MAX_Q_CHARS + 1)), "q"),
        ] {
            match ListParams::parse(Some(query)) {
                Err(DomainError::Invalid(details)) => {
                    let path = &details[0].path;
                    assert_eq!(path.location, crate::error::Location::Query, "{query}");
                    assert_eq!(path.segments[0], loc.into(), "{query}");
                }
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}
