//! What an API token may do: [`Scope`], shared by the store that keeps tokens, the server that
//! checks them and the clients that create them.

use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a token may do. Scopes nest: `admin` ⊃ `write` ⊃ `read`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[derive(strum::IntoStaticStr, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Scope {
    /// Read every resource.
    Read,
    /// Read, and create, change or delete monitors and maintenance windows.
    Write,
    /// Everything, including managing API tokens.
    Admin,
}

impl Scope {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether a token holding `self` may do what needs `needed`.
    pub fn grants(self, needed: Scope) -> bool {
        self >= needed
    }
}

/// Parses a lowercase name; the error names the choices (callers such as a command line
/// parser already quote the value).
impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            "admin" => Ok(Self::Admin),
            _ => Err("expected read, write or admin".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_round_trip_through_their_names() {
        for scope in [Scope::Read, Scope::Write, Scope::Admin] {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
            assert_eq!(
                serde_json::to_value(scope).unwrap(),
                serde_json::json!(scope.as_str())
            );
        }
        assert!(Scope::Admin.grants(Scope::Write));
        assert!(!Scope::Read.grants(Scope::Write));
        assert_eq!(
            "root".parse::<Scope>().unwrap_err(),
            "expected read, write or admin"
        );
    }
}
