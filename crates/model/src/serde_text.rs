//! serde's type errors in user terms: "invalid type: sequence, expected a string" names Rust
//! types and serde's data model; people writing YAML or JSON read "expected a string, got a
//! list".

/// `message` rewritten when it is one of serde's `invalid type`, `invalid value` or `invalid
/// length` errors; any other message is returned as it is.
pub fn in_user_terms(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((unexpected, expected)) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(", expected "))
        {
            return format!(
                "expected {}, got {}",
                expected_text(expected),
                got(unexpected)
            );
        }
    }
    if let Some((length, expected)) = message
        .strip_prefix("invalid length ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return format!("expected {}, got {length} items", expected_text(expected));
    }
    message.to_owned()
}

/// What serde's `Unexpected` text names, as a value of YAML or JSON.
fn got(unexpected: &str) -> String {
    let between_ticks = |kind: &str| {
        unexpected
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix(" `"))
            .and_then(|rest| rest.strip_suffix('`'))
            .map(str::to_owned)
    };
    if let Some(n) = between_ticks("integer").or_else(|| between_ticks("floating point")) {
        return format!("the number {n}");
    }
    if let Some(b) = between_ticks("boolean") {
        return b;
    }
    if let Some(c) = between_ticks("character") {
        return format!("\"{c}\"");
    }
    if let Some(s) = unexpected.strip_prefix("string ") {
        return format!("the text {s}");
    }
    match unexpected {
        "unit value" | "null" | "Option value" => "null (no value)".to_owned(),
        "sequence" => "a list".to_owned(),
        "map" => "a mapping".to_owned(),
        other => other.to_owned(),
    }
}

/// What serde's `expected` text (a visitor's `expecting`, or a Rust type name) asks for.
fn expected_text(expected: &str) -> String {
    let range = |max: &str| format!("a whole number from 0 to {max}");
    match expected {
        "u8" => range("255"),
        "u16" => range("65535"),
        "u32" => range("4294967295"),
        "u64" | "usize" | "u128" => "a whole number of 0 or more".to_owned(),
        "i8" | "i16" | "i32" | "i64" | "isize" | "i128" => "a whole number".to_owned(),
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" | "bool" => "true or false".to_owned(),
        "a borrowed string" | "a string" | "string" | "char" => "a string".to_owned(),
        "a sequence" | "a tuple" => "a list".to_owned(),
        "a map" => "a mapping".to_owned(),
        other if other.starts_with("struct ") || other.starts_with("a map") => {
            "a mapping of fields".to_owned()
        }
        other if other.starts_with("enum ") => "one of the allowed values".to_owned(),
        other if other.starts_with("tuple of ") || other.starts_with("a sequence") => {
            "a list".to_owned()
        }
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::in_user_terms;

    #[test]
    fn serde_errors_read_in_user_terms() {
        let cases = [
            (
                "invalid type: integer `30`, expected a string",
                "expected a string, got the number 30",
            ),
            (
                "invalid value: integer `70000`, expected u16",
                "expected a whole number from 0 to 65535, got the number 70000",
            ),
            (
                "invalid type: sequence, expected a string",
                "expected a string, got a list",
            ),
            (
                "invalid type: string \"x\", expected struct MonitorSpec",
                "expected a mapping of fields, got the text \"x\"",
            ),
            (
                "invalid type: map, expected a sequence",
                "expected a list, got a mapping",
            ),
            (
                "invalid type: boolean `true`, expected u32",
                "expected a whole number from 0 to 4294967295, got true",
            ),
            (
                "invalid type: floating point `1.5`, expected i64",
                "expected a whole number, got the number 1.5",
            ),
            (
                "invalid type: unit value, expected a boolean",
                "expected true or false, got null (no value)",
            ),
            (
                "invalid type: string \"x\", expected a duration such as 30s",
                "expected a duration such as 30s, got the text \"x\"",
            ),
            (
                "invalid length 3, expected a tuple of size 2",
                "expected a tuple of size 2, got 3 items",
            ),
            ("required", "required"),
        ];
        for (serde, plain) in cases {
            assert_eq!(in_user_terms(serde), plain, "for {serde}");
        }
    }

    #[test]
    fn no_rust_type_names_are_left() {
        for expected in [
            "u8", "u16", "u32", "u64", "i64", "f64", "struct X", "enum Y",
        ] {
            let text = in_user_terms(&format!("invalid type: map, expected {expected}"));
            assert!(!text.contains(expected), "{text}");
        }
    }
}
