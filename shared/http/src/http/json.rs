//! A JSON body extractor whose rejections are Dispatch's 422 bodies (FastAPI's shapes):
//! a missing body, malformed JSON, a missing field, a value of the wrong type.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ErrorDetail};
use crate::loc;
use dispatch_domain::model::Invalid;

/// A request body parsed as JSON into `T`; as a response, `T` serialised as JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        // Like FastAPI: no content type is read as JSON; another media type is not an object.
        if let Some(ct) = content_type
            && !(ct.starts_with("application/json") || ct.contains("+json"))
        {
            return Err(ApiError::validation(
                "Input should be a valid dictionary or object to extract fields from",
                loc!["body"],
                "model_attributes_type",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        parse_json_body(&bytes).map(Json)
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for Json<T> {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses a body, turning every failure into a 422 that names the place.
pub fn parse_json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            "Field required",
            loc!["body"],
            "missing",
        ));
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(deserializer);
    result.map_err(|error| {
        let mut location: Vec<Value> = loc!["body"];
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => location.push(Value::from(*index)),
                serde_path_to_error::Segment::Map { key } => {
                    location.push(Value::from(key.as_str()))
                }
                serde_path_to_error::Segment::Enum { variant } => {
                    location.push(Value::from(variant.as_str()))
                }
                serde_path_to_error::Segment::Unknown => {}
            }
        }
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            let offset = byte_offset(bytes, inner.line(), inner.column());
            return ApiError::validation("JSON decode error", loc!["body", offset], "json_invalid");
        }
        let message = strip_position(&inner.to_string());
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            location.push(Value::from(field));
            return ApiError::validation("Field required", location, "missing");
        }
        // A value type's refusal carries pydantic's kind (`string_too_long`, …).
        if let Some((msg, kind)) = Invalid::from_de_message(&message) {
            return ApiError::Validation(vec![ErrorDetail::new(msg, location, kind)]);
        }
        ApiError::Validation(vec![ErrorDetail::new(message, location, "value_error")])
    })
}

/// serde_json appends " at line L column C"; the location is in `loc` already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn byte_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let line_start: usize = bytes
        .split(|b| *b == b'\n')
        .take(line.saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    line_start + column.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        remember: Option<bool>,
    }

    fn detail(result: Result<Login, ApiError>) -> ErrorDetail {
        match result {
            Err(ApiError::Validation(details)) => details[0].clone(),
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_body_is_field_required() {
        let d = detail(parse_json_body(b""));
        assert_eq!((d.kind.as_str(), d.loc.clone()), ("missing", loc!["body"]));
    }

    #[test]
    fn malformed_json_is_json_invalid_with_an_offset() {
        let d = detail(parse_json_body(b"{\"email\": "));
        assert_eq!(d.kind, "json_invalid");
        assert_eq!(d.msg, "JSON decode error");
        assert_eq!(d.loc[0], "body");
    }

    #[test]
    fn a_missing_field_is_named() {
        let d = detail(parse_json_body(b"{}"));
        assert_eq!(
            (d.kind.as_str(), d.msg.as_str()),
            ("missing", "Field required")
        );
        assert_eq!(d.loc, loc!["body", "email"]);
    }

    #[test]
    fn a_value_types_refusal_keeps_its_kind() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Named {
            name: dispatch_domain::model::NameStr,
        }
        let refused: Result<Named, ApiError> = parse_json_body(b"{\"name\":\"ab\"}");
        let Err(ApiError::Validation(details)) = refused else {
            panic!("expected a 422, got {refused:?}");
        };
        assert_eq!(
            (details[0].msg.as_str(), details[0].kind.as_str()),
            (
                "String should have at least 3 characters",
                "string_too_short"
            )
        );
        assert_eq!(details[0].loc, loc!["body", "name"]);
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let d = detail(parse_json_body(
            b"{\"email\":\"a@b.c\",\"remember\":\"sometimes\"}",
        ));
        assert_eq!(d.loc, loc!["body", "remember"]);
        assert_eq!(d.kind, "value_error");
        assert!(!d.msg.contains("line"), "{}", d.msg);
    }
}
