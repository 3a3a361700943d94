//! Opaque page cursors and the `{"items": [...], "next_cursor": ...}` envelope of lists.
//!
//! A cursor is the position after the last item of a page (an id, a row number, a timestamp
//! with an id), tagged with the list it belongs to and hex-encoded so clients treat it as
//! opaque.

use axum::Json;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;

use super::problem::{ApiResult, Problem};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size.
pub const MAX_LIMIT: usize = 1000;

/// One page of a list.
// Its schema is named after the item's: a page of `Monitor` is a `MonitorList`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(rename = "{T}List")]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// Encodes a position in the list `kind`.
pub fn encode(kind: &str, position: &str) -> String {
    let text = format!("{kind}:{position}");
    let mut out = String::with_capacity(text.len() * 2);
    for b in text.bytes() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Decodes a cursor made by [`encode`] for the list `kind`; 400 when it was not.
pub fn decode(kind: &str, cursor: &str) -> ApiResult<String> {
    let invalid = || Problem::bad_param("cursor", "not a cursor of this list");
    if !cursor.len().is_multiple_of(2) || cursor.len() > 2048 {
        return Err(invalid());
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = cursor
        .as_bytes()
        .chunks(2)
        .map(|pair| Some((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(invalid)?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .map(str::to_owned)
        .ok_or_else(invalid)
}

/// Decodes a cursor holding a number.
pub fn decode_number(kind: &str, cursor: &str) -> ApiResult<i64> {
    decode(kind, cursor)?
        .parse()
        .map_err(|_| Problem::bad_param("cursor", "not a cursor of this list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = encode("monitors", "payments-api");
        assert_eq!(decode("monitors", &c).expect("valid"), "payments-api");
        assert!(decode("results", &c).is_err());
        assert!(decode("monitors", "zz").is_err());
        assert!(decode("monitors", "abc").is_err());
        assert_eq!(
            decode_number("results", &encode("results", "42")).expect("number"),
            42
        );
    }
}
