//! Field paths such as `spec.assertions[2]`: their segments, how one lies within another, and
//! the order errors are listed in (indexes compared as numbers, so `[2]` comes before `[10]`).

use std::cmp::Ordering;

/// A segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg {
    /// A mapping key, `.name`.
    Key(String),
    /// A sequence index, `[2]`.
    Index(usize),
}

/// `spec.assertions[2]` → `spec`, `assertions`, `[2]`. Dots always separate keys, so a label
/// key such as `app.kubernetes.io/name` comes out as several keys.
pub(crate) fn parse(field: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in field.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                segs.push(Seg::Key(rest[..open].to_owned()));
            }
            rest = &rest[open..];
            while let Some(inner) = rest.strip_prefix('[') {
                let Some((number, after)) = inner.split_once(']') else {
                    break;
                };
                match number.parse() {
                    Ok(n) => segs.push(Seg::Index(n)),
                    Err(_) => break,
                }
                rest = after;
            }
        } else if !part.is_empty() {
            segs.push(Seg::Key(part.to_owned()));
        }
    }
    segs
}

/// Appends `seg` to the rendered path `path`: `.key` (no dot at the start) or `[index]`.
pub(crate) fn push(path: &mut String, seg: &Seg) {
    match seg {
        Seg::Key(key) => {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
        }
        Seg::Index(index) => {
            path.push('[');
            path.push_str(&index.to_string());
            path.push(']');
        }
    }
}

/// Whether `field` is `ancestor` itself or lies under it (`spec.http.url` under `spec.http`,
/// `spec.assertions[1]` under `spec.assertions`; the empty path holds everything).
pub(crate) fn is_within(field: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || field
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// The order errors are listed in: segment by segment, a path before the paths under it.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    parse(a).cmp(&parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render() {
        assert_eq!(
            parse("spec.assertions[2]"),
            vec![
                Seg::Key("spec".into()),
                Seg::Key("assertions".into()),
                Seg::Index(2)
            ]
        );
        let mut path = String::new();
        for seg in parse("spec.items[1][0].name") {
            push(&mut path, &seg);
        }
        assert_eq!(path, "spec.items[1][0].name");
    }

    #[test]
    fn within_and_order() {
        assert!(is_within("spec.http.url", "spec.http"));
        assert!(is_within("spec.http", "spec.http"));
        assert!(is_within("spec.assertions[1]", "spec.assertions"));
        assert!(is_within("anything", ""));
        assert!(!is_within("spec.https", "spec.http"));
        assert!(!is_within("spec", "spec.http"));
        let mut fields = vec!["spec.b[10]", "spec.b[2]", "spec", "labels.x", "spec.a"];
        fields.sort_by(|a, b| compare(a, b));
        assert_eq!(
            fields,
            ["labels.x", "spec", "spec.a", "spec.b[2]", "spec.b[10]"]
        );
    }
}
