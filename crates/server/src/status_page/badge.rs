//! Shields-style SVG badges: a grey label, a coloured value, text escaped, widths estimated
//! from the characters (no font is measured at run time).

use crate::xml::escape;

/// A badge's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colour {
    /// Up, or uptime of 99.9 % or more.
    Green,
    /// Uptime of 99 % or more.
    Yellow,
    /// Degraded, or uptime of 95 % or more.
    Orange,
    /// Down, or uptime under 95 %.
    Red,
    /// Maintenance.
    Blue,
    /// Nothing known.
    Grey,
}

impl Colour {
    fn hex(self) -> &'static str {
        match self {
            Self::Green => "#2e7d32",
            Self::Yellow => "#8a6d00",
            Self::Orange => "#b94a00",
            Self::Red => "#c62828",
            Self::Blue => "#1565c0",
            Self::Grey => "#555",
        }
    }

    /// The colour of an uptime percentage.
    pub fn of_uptime(percent: Option<f64>) -> Self {
        match percent {
            None => Self::Grey,
            Some(p) if p >= 99.9 => Self::Green,
            Some(p) if p >= 99.0 => Self::Yellow,
            Some(p) if p >= 95.0 => Self::Orange,
            Some(_) => Self::Red,
        }
    }
}

/// Longest label or value drawn, in characters (longer ones are cut with `…`).
const MAX_CHARS: usize = 48;

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Approximate width in pixels of `text` in 11 px Verdana.
fn width(text: &str) -> u32 {
    let chars: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '|' | '!' | '\'' | ' ' => 4,
            'm' | 'w' | 'M' | 'W' | '%' => 10,
            c if c.is_ascii_uppercase() => 8,
            _ => 7,
        })
        .sum();
    chars + 10
}

/// The SVG of a badge reading `label | value`.
pub fn svg(label: &str, value: &str, colour: Colour) -> String {
    let (label, value) = (cut(label), cut(value));
    let (lw, vw) = (width(&label), width(&value));
    let total = lw + vw;
    let (label_x, value_x) = (lw * 5, lw * 10 + vw * 5);
    let (l, v) = (escape(&label), escape(&value));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" \
         aria-label=\"{l}: {v}\"><title>{l}: {v}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
         stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{total}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{colour}\"/>\
         <rect width=\"{total}\" height=\"20\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" \
         font-size=\"110\" text-rendering=\"geometricPrecision\">\
         <text x=\"{label_x}\" y=\"140\" transform=\"scale(.1)\">{l}</text>\
         <text x=\"{value_x}\" y=\"140\" transform=\"scale(.1)\">{v}</text></g></svg>",
        colour = colour.hex(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_cut() {
        let badge = svg("<script>", &"a\"&".repeat(40), Colour::Red);
        assert!(!badge.contains("<script>"));
        assert!(badge.contains("&lt;script&gt;"));
        assert!(badge.contains("a&quot;&amp;"));
        assert!(badge.contains('…'));
    }

    #[test]
    fn uptime_colours() {
        assert_eq!(Colour::of_uptime(Some(100.0)), Colour::Green);
        assert_eq!(Colour::of_uptime(Some(99.5)), Colour::Yellow);
        assert_eq!(Colour::of_uptime(Some(96.0)), Colour::Orange);
        assert_eq!(Colour::of_uptime(Some(10.0)), Colour::Red);
        assert_eq!(Colour::of_uptime(None), Colour::Grey);
    }
}
