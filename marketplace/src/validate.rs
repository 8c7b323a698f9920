//! Input checks shared by handlers. Every error names the field it is about.

use crate::error::{ApiError, bad};
use serde_json::Value;

/// Largest accepted money amount; bigger values are refused rather than stored as
/// meaningless floats (1e308 would make every total infinite).
pub const MAX_MONEY: f64 = 1_000_000_000.0;
/// Largest accepted quantity of one line.
pub const MAX_QUANTITY: u32 = 10_000;
/// Largest accepted stock count.
pub const MAX_STOCK: u32 = 1_000_000;

/// A finite amount in `0..=MAX_MONEY`.
pub fn money(field: &str, v: f64) -> Result<f64, ApiError> {
    if !v.is_finite() || v < 0.0 {
        return Err(bad(field, "must be a non-negative number"));
    }
    if v > MAX_MONEY {
        return Err(bad(field, format!("must be at most {MAX_MONEY}")));
    }
    Ok(round2(v))
}

/// A finite amount in `(0, MAX_MONEY]`.
pub fn positive_money(field: &str, v: f64) -> Result<f64, ApiError> {
    let v = money(field, v)?;
    if v <= 0.0 {
        return Err(bad(field, "must be greater than 0"));
    }
    Ok(v)
}

/// A percentage in `0..=100`.
pub fn percent(field: &str, v: f64) -> Result<f64, ApiError> {
    if !v.is_finite() || !(0.0..=100.0).contains(&v) {
        return Err(bad(field, "must be a number from 0 to 100"));
    }
    Ok(v)
}

/// A whole number at most `max`.
pub fn at_most(field: &str, v: u32, max: u32) -> Result<u32, ApiError> {
    if v > max {
        return Err(bad(field, format!("must be at most {max}")));
    }
    Ok(v)
}

/// A line quantity in `1..=MAX_QUANTITY`.
pub fn quantity(field: &str, v: u32) -> Result<u32, ApiError> {
    if v == 0 || v > MAX_QUANTITY {
        return Err(bad(field, format!("must be from 1 to {MAX_QUANTITY}")));
    }
    Ok(v)
}

/// A trimmed, non-empty string of at most `max` characters.
pub fn text(field: &str, v: &str, max: usize) -> Result<String, ApiError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(bad(field, format!("must be at most {max} characters")));
    }
    Ok(t.to_string())
}

/// A required, non-empty string.
pub fn required(field: &str, v: Option<&String>, max: usize) -> Result<String, ApiError> {
    match v {
        Some(s) => text(field, s, max),
        None => Err(bad(field, "is required")),
    }
}

/// A field a body may leave out: checked by `check` when present, `None` when absent.
pub fn present<T, U>(
    v: Option<T>,
    check: impl FnOnce(T) -> Result<U, ApiError>,
) -> Result<Option<U>, ApiError> {
    v.map(check).transpose()
}

/// The `slug` a body asks for (checked), else one derived from `name`.
pub fn slug_or_name(v: Option<&str>, name: &str) -> Result<String, ApiError> {
    match v {
        Some(x) => slug("slug", x),
        None => Ok(slugify(name)),
    }
}

/// An optional string: absent or empty stays `None`.
pub fn optional(field: &str, v: Option<&String>, max: usize) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if !s.trim().is_empty() => text(field, s, max).map(Some),
        _ => Ok(None),
    }
}

/// A URL-safe slug: letters, digits, `-` and `_`.
pub fn slug(field: &str, v: &str) -> Result<String, ApiError> {
    let s = text(field, v, 200)?;
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(field, "may contain only letters, digits, '-' and '_'"));
    }
    Ok(s)
}

/// Lower-case, dash-separated slug derived from a name.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() { "item".into() } else { out }
}

/// A list of strings, each non-empty, at most `max_items` of them.
pub fn strings(field: &str, v: &[String], max_items: usize) -> Result<Vec<String>, ApiError> {
    if v.len() > max_items {
        return Err(bad(field, format!("must have at most {max_items} items")));
    }
    v.iter()
        .enumerate()
        .map(|(i, s)| text(&format!("{field}[{i}]"), s, 2000))
        .collect()
}

/// A JSON object (free-form structured data such as dimensions or an address).
pub fn object(field: &str, v: &Value) -> Result<Value, ApiError> {
    if v.is_object() {
        Ok(v.clone())
    } else {
        Err(bad(field, "must be an object"))
    }
}

/// A JSON string or object.
pub fn string_or_object(field: &str, v: &Value) -> Result<Value, ApiError> {
    if v.is_object() || v.is_string() {
        Ok(v.clone())
    } else {
        Err(bad(field, "must be a string or an object"))
    }
}

/// An e-mail address (loosely: something@something).
pub fn email(field: &str, v: &str) -> Result<String, ApiError> {
    let s = text(field, v, 200)?;
    match s.split_once('@') {
        Some((a, b)) if !a.is_empty() && !b.is_empty() && !s.contains(' ') => Ok(s),
        _ => Err(bad(field, "must be an e-mail address")),
    }
}

/// A phone number: digits with an optional leading `+`, spaces and dashes.
pub fn phone(field: &str, v: &str) -> Result<String, ApiError> {
    let s = text(field, v, 30)?;
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let ok = s
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (i == 0 && c == '+'));
    if !ok || !(5..=15).contains(&digits) {
        return Err(bad(field, "must be a phone number such as +919876543210"));
    }
    Ok(s)
}

/// Rounds to cents.
pub fn round2(v: f64) -> f64 {
    // `+ 0.0` turns -0.0 (e.g. an empty sum) into 0.0.
    (v * 100.0).round() / 100.0 + 0.0
}
