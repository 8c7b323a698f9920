//! Reading and checking JSON answers: [`JsonExt`] (values by path, with errors that say what was
//! there instead), [`expect_subset`] / [`expect_json!`](crate::expect_json) (a partial match
//! listing every mismatch by path), and for arrays [`expect_each`] and [`find_subset`].
//!
//! # Paths
//!
//! A path is a JSON Pointer (RFC 6901): `/data/0/id` is the `id` of the first item of `data`;
//! `~1` stands for `/` and `~0` for `~` inside a key; `""` is the whole value. As a shorthand, a
//! path without a leading `/` is a dot-separated list of keys and indexes: `status` is
//! `/status`, `pagination.total` is `/pagination/total`, `items.0.id` is `/items/0/id`. Errors
//! always name the path as a JSON Pointer.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

/// How many characters of a value an error message quotes.
const VALUE_EXCERPT: usize = 300;

/// How many keys a "missing key" error lists.
const KEYS_LISTED: usize = 12;

/// `value` as compact JSON, cut to a readable length for error messages.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(VALUE_EXCERPT) {
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
        None => text,
    }
}

/// A path that does not lead to a value of the kind asked for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Nothing is at the path: a key is absent, an index is past the end, or a step of the
    /// path goes through a value that is not an object or array.
    #[error("{path}: missing; {parent} {found}")]
    Missing {
        /// The path asked for, as a JSON Pointer.
        path: String,
        /// The deepest part of the path that exists (`(root)` for the whole value).
        parent: String,
        /// What that part is instead, e.g. `has 0 items` or `has keys "id", "name"`.
        found: String,
    },
    /// A value is there, but not of the kind asked for (`null` included).
    #[error("{path}: expected {expected}, got {found}")]
    Type {
        /// The path, as a JSON Pointer.
        path: String,
        /// The kind asked for, e.g. `a string`.
        expected: &'static str,
        /// The value found (shortened).
        found: String,
    },
}

/// One difference found by [`expect_subset`].
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// Where, as a JSON Pointer (`(root)` for the whole value).
    pub path: String,
    /// What differs, e.g. `expected "live", got "ended"` or `missing, expected 3`.
    pub problem: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// The value did not contain what [`expect_subset`] expected; every mismatch is listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct SubsetError {
    /// The differences, in the order of the expected value (its keys sorted, as serde_json's
    /// maps keep them).
    pub mismatches: Vec<Mismatch>,
}

impl fmt::Display for SubsetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mismatches.len() > 1 {
            write!(f, "{} mismatches: ", self.mismatches.len())?;
        }
        for (i, mismatch) in self.mismatches.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{mismatch}")?;
        }
        Ok(())
    }
}

/// The tokens of `path` (see the module docs): a JSON Pointer, or dotted keys.
fn tokens(path: &str) -> Vec<Cow<'_, str>> {
    if path.is_empty() {
        Vec::new()
    } else if let Some(pointer) = path.strip_prefix('/') {
        pointer
            .split('/')
            .map(|t| {
                if t.contains('~') {
                    Cow::Owned(t.replace("~1", "/").replace("~0", "~"))
                } else {
                    Cow::Borrowed(t)
                }
            })
            .collect()
    } else {
        path.split('.').map(Cow::Borrowed).collect()
    }
}

/// Appends `token` to the JSON Pointer `pointer`, escaped.
fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    pointer.push_str(&token.replace('~', "~0").replace('/', "~1"));
}

/// `pointer`, or `(root)` for the empty pointer.
fn shown(pointer: &str) -> String {
    if pointer.is_empty() {
        "(root)".to_owned()
    } else {
        pointer.to_owned()
    }
}

/// What a value is, for the "missing" half of an error: `has 2 items`, `has keys "a", "b"`,
/// `is null`, `is a string: "x"`.
fn describe(value: &Value) -> String {
    match value {
        Value::Array(items) => match items.len() {
            1 => "has 1 item".to_owned(),
            n => format!("has {n} items"),
        },
        Value::Object(map) if map.is_empty() => "is an empty object".to_owned(),
        Value::Object(map) => {
            let mut keys: Vec<String> = map
                .keys()
                .take(KEYS_LISTED)
                .map(|k| format!("{k:?}"))
                .collect();
            if map.len() > KEYS_LISTED {
                keys.push(format!("… ({} keys in all)", map.len()));
            }
            format!("has keys {}", keys.join(", "))
        }
        Value::Null => "is null".to_owned(),
        other => format!("is {}: {}", kind(other), short(other)),
    }
}

/// The kind of a value, with its article: `a string`, `an object`, …
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The array index `token` names in an array of `len` items, if it is one (RFC 6901: digits
/// without a leading zero).
fn index(token: &str, len: usize) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok().filter(|&i| i < len)
}

/// The value at `path` in `root` (null included), and the path as a JSON Pointer.
fn lookup<'v>(root: &'v Value, path: &str) -> Result<(&'v Value, String), JsonError> {
    let mut value = root;
    let mut pointer = String::new();
    let tokens = tokens(path);
    for (i, token) in tokens.iter().enumerate() {
        let next = match value {
            Value::Object(map) => map.get(token.as_ref()),
            Value::Array(items) => index(token, items.len()).and_then(|i| items.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            let parent = shown(&pointer);
            for token in &tokens[i..] {
                push_token(&mut pointer, token);
            }
            return Err(JsonError::Missing {
                path: pointer,
                parent,
                found: describe(value),
            });
        };
        push_token(&mut pointer, token);
        value = next;
    }
    Ok((value, pointer))
}

/// A [`JsonError::Type`] for the value `found` at `pointer`.
fn type_error(pointer: String, expected: &'static str, found: &Value) -> JsonError {
    JsonError::Type {
        path: shown(&pointer),
        expected,
        found: short(found),
    }
}

/// Reading JSON by path, with errors that name the path and what was there instead:
/// `/data/0/id: missing; /data has 0 items`, `/price: expected a number, got "12"`.
///
/// A path is a JSON Pointer (RFC 6901): `/data/0/id` is the `id` of the first item of `data`;
/// `~1` stands for `/` and `~0` for `~` inside a key; `""` is the whole value. As a shorthand, a
/// path without a leading `/` is a dot-separated list of keys and indexes: `status` is
/// `/status`, `pagination.total` is `/pagination/total`, `items.0.id` is `/items/0/id`. Errors
/// always name the path as a JSON Pointer.
///
/// ```
/// use workflow_harness::prelude::*;
///
/// let page = json!({ "data": [{ "id": "p1", "price": 12.5 }], "pagination": { "total": 1 } });
/// assert_eq!(page.str_at("/data/0/id")?, "p1");
/// assert_eq!(page.i64_at("pagination.total")?, 1);
/// assert_eq!(page.ids_at("data")?, ["p1"]);
/// let error = page.at("/data/1/id").unwrap_err();
/// assert_eq!(error.to_string(), "/data/1/id: missing; /data has 1 item");
/// # Ok::<(), JsonError>(())
/// ```
pub trait JsonExt {
    /// The value at `path`; an error when it is missing or `null` (use [`JsonExt::opt_at`] to
    /// accept either).
    fn at(&self, path: &str) -> Result<&Value, JsonError>;
    /// The value at `path`, `None` when it is missing or `null`.
    fn opt_at(&self, path: &str) -> Option<&Value>;
    /// The string at `path`.
    fn str_at(&self, path: &str) -> Result<&str, JsonError>;
    /// The number at `path`, as `f64`.
    fn f64_at(&self, path: &str) -> Result<f64, JsonError>;
    /// The integer at `path` (a number with a fractional part is an error).
    fn i64_at(&self, path: &str) -> Result<i64, JsonError>;
    /// The boolean at `path`.
    fn bool_at(&self, path: &str) -> Result<bool, JsonError>;
    /// The array at `path`.
    fn array_at(&self, path: &str) -> Result<&Vec<Value>, JsonError>;
    /// The object at `path`.
    fn object_at(&self, path: &str) -> Result<&Map<String, Value>, JsonError>;
    /// The string `id` of every item of the array at `path`.
    fn ids_at(&self, path: &str) -> Result<Vec<String>, JsonError>;
    /// The `data` array of a paginated list (`array_at("data")`).
    fn data(&self) -> Result<&Vec<Value>, JsonError> {
        self.array_at("data")
    }
    /// The string `id` of an object, owned.
    fn id(&self) -> Result<String, JsonError> {
        self.str_at("id").map(str::to_owned)
    }
}

impl JsonExt for Value {
    fn at(&self, path: &str) -> Result<&Value, JsonError> {
        match lookup(self, path)? {
            (Value::Null, pointer) => Err(type_error(pointer, "a value", &Value::Null)),
            (value, _) => Ok(value),
        }
    }

    fn opt_at(&self, path: &str) -> Option<&Value> {
        self.at(path).ok()
    }

    fn str_at(&self, path: &str) -> Result<&str, JsonError> {
        let (value, pointer) = lookup(self, path)?;
        value
            .as_str()
            .ok_or_else(|| type_error(pointer, "a string", value))
    }

    fn f64_at(&self, path: &str) -> Result<f64, JsonError> {
        let (value, pointer) = lookup(self, path)?;
        value
            .as_f64()
            .ok_or_else(|| type_error(pointer, "a number", value))
    }

    fn i64_at(&self, path: &str) -> Result<i64, JsonError> {
        let (value, pointer) = lookup(self, path)?;
        value
            .as_i64()
            .ok_or_else(|| type_error(pointer, "an integer", value))
    }

    fn bool_at(&self, path: &str) -> Result<bool, JsonError> {
        let (value, pointer) = lookup(self, path)?;
        value
            .as_bool()
            .ok_or_else(|| type_error(pointer, "a boolean", value))
    }

    fn array_at(&self, path: &str) -> Result<&Vec<Value>, JsonError> {
        let (value, pointer) = lookup(self, path)?;
        value
            .as_array()
            .ok_or_else(|| type_error(pointer, "an array", value))
    }

    fn object_at(&self, path: &str) -> Result<&Map<String, Value>, JsonError> {
        let (value, pointer) = lookup(self, path)?;
        value
            .as_object()
            .ok_or_else(|| type_error(pointer, "an object", value))
    }

    fn ids_at(&self, path: &str) -> Result<Vec<String>, JsonError> {
        let (items, pointer) = lookup(self, path)?;
        let items = items
            .as_array()
            .ok_or_else(|| type_error(pointer.clone(), "an array", items))?;
        (0..items.len())
            .map(|i| self.str_at(&format!("{pointer}/{i}/id")).map(str::to_owned))
            .collect()
    }
}

/// Checks that `actual` contains `expected`, and lists every difference by path.
///
/// - **Objects** match as a subset: every key of `expected` must be in `actual` with a matching
///   value; keys `expected` does not name are ignored. An expected `null` matches a missing key
///   as well as a `null`.
/// - **Arrays** match element by element, by position, and must have the same length (an
///   expected `[]` requires an empty array); each element is itself matched as a subset. To
///   check only some items, match them by path: `expect_subset(list.at("/data/0")?, …)`.
/// - **Numbers** match by value: `1` matches `1.0`. Integers are compared exactly, other
///   numbers as `f64`.
/// - Strings, booleans and `null` match when equal; a value of another kind is a mismatch.
///
/// ```
/// use workflow_harness::prelude::*;
///
/// let auction = json!({ "status": "ended", "bids": [{ "amount": 100 }], "name": "Lamp" });
/// expect_subset(&auction, &json!({ "name": "Lamp", "bids": [{ "amount": 100.0 }] }))?;
/// let error = expect_subset(&auction, &json!({ "status": "live", "reserve": 5 })).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     r#"2 mismatches: /reserve: missing, expected 5; /status: expected "live", got "ended""#
/// );
/// # Ok::<(), SubsetError>(())
/// ```
pub fn expect_subset(actual: &Value, expected: &Value) -> Result<(), SubsetError> {
    let mut mismatches = Vec::new();
    compare(actual, expected, &mut String::new(), &mut mismatches);
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(SubsetError { mismatches })
    }
}

/// Checks that each of `items` contains `expected` (as [`expect_subset`] matches it), listing
/// every mismatch by path: `/3/shopId: expected "s1", got "s2"` (the index in `items`). No
/// items pass.
///
/// ```
/// use workflow_harness::prelude::*;
///
/// let page = json!({ "data": [{ "status": "pending" }, { "status": "shipped" }] });
/// let error = expect_each(page.data()?, &json!({ "status": "pending" })).unwrap_err();
/// assert_eq!(error.to_string(), r#"/1/status: expected "pending", got "shipped""#);
/// # Ok::<(), JsonError>(())
/// ```
pub fn expect_each(items: &[Value], expected: &Value) -> Result<(), SubsetError> {
    let mut mismatches = Vec::new();
    let mut pointer = String::new();
    for (i, item) in items.iter().enumerate() {
        push_token(&mut pointer, &i.to_string());
        compare(item, expected, &mut pointer, &mut mismatches);
        pointer.clear();
    }
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(SubsetError { mismatches })
    }
}

/// The first of `items` that contains `expected` (as [`expect_subset`] matches it); an error
/// showing the items when none does.
///
/// ```
/// use workflow_harness::prelude::*;
///
/// let cart = json!({ "items": [{ "productId": "p1", "quantity": 2 }] });
/// let line = find_subset(cart.array_at("items")?, &json!({ "productId": "p1" }))?;
/// assert_eq!(line.i64_at("quantity")?, 2);
/// let error = find_subset(cart.array_at("items")?, &json!({ "productId": "p2" })).unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     r#"(root): none of 1 items contains {"productId":"p2"}: [{"productId":"p1","quantity":2}]"#
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn find_subset<'v>(items: &'v [Value], expected: &Value) -> Result<&'v Value, SubsetError> {
    if let Some(found) = items.iter().find(|i| expect_subset(i, expected).is_ok()) {
        return Ok(found);
    }
    let shown_items = short(&Value::Array(items.to_vec()));
    Err(SubsetError {
        mismatches: vec![Mismatch {
            path: shown(""),
            problem: format!(
                "none of {} items contains {}: {shown_items}",
                items.len(),
                short(expected)
            ),
        }],
    })
}

/// Whether two JSON numbers are the same number (`1` and `1.0` are).
fn same_number(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64() == b.as_f64(),
    }
}

fn compare(actual: &Value, expected: &Value, pointer: &mut String, out: &mut Vec<Mismatch>) {
    let mut mismatch = |problem: String| {
        out.push(Mismatch {
            path: shown(pointer),
            problem,
        })
    };
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, want) in want {
                let len = pointer.len();
                push_token(pointer, key);
                match have.get(key) {
                    Some(have) => compare(have, want, pointer, out),
                    None if want.is_null() => {}
                    None => out.push(Mismatch {
                        path: pointer.clone(),
                        problem: format!("missing, expected {}", short(want)),
                    }),
                }
                pointer.truncate(len);
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            if want.len() != have.len() {
                mismatch(format!(
                    "expected {} items, got {}: {}",
                    want.len(),
                    have.len(),
                    short(actual)
                ));
            }
            for (i, (want, have)) in want.iter().zip(have).enumerate() {
                let len = pointer.len();
                push_token(pointer, &i.to_string());
                compare(have, want, pointer, out);
                pointer.truncate(len);
            }
        }
        (Value::Object(_) | Value::Array(_), _) => {
            mismatch(format!(
                "expected {}, got {}",
                kind(expected),
                short(actual)
            ));
        }
        (Value::Number(want), Value::Number(have)) if same_number(want, have) => {}
        _ if expected == actual => {}
        _ => mismatch(format!(
            "expected {}, got {}",
            short(expected),
            short(actual)
        )),
    }
}

/// `expect_json!(actual, { "status": "live", … })`: [`expect_subset`] with the expected value
/// written as in [`json!`](serde_json::json); returns its `Result`, so end it with `?`.
///
/// ```
/// use workflow_harness::prelude::*;
///
/// let order = json!({ "id": "o1", "status": "pending", "items": [{ "quantity": 1 }] });
/// let status = "pending";
/// expect_json!(order, { "status": status, "items": [{ "quantity": 1 }] })?;
/// # Ok::<(), SubsetError>(())
/// ```
#[macro_export]
macro_rules! expect_json {
    ($actual:expr, $($expected:tt)+) => {{
        // Bound first, so that `actual` may be a `Value`, a `&Value` or `x.at(…)?`.
        let actual = &$actual;
        $crate::expect_subset(actual, &$crate::__json!($($expected)+))
    }};
}

/// Fails the step unless `left == right`, naming both expressions and both values
/// (`ensure!` without a message prints neither):
/// `ensure_eq!(order.str_at("status")?, "pending")` fails with
/// `order.str_at("status")? == "pending": left "shipped", right "pending"`. An optional
/// message and arguments come first in the error.
///
/// ```
/// use workflow_harness::prelude::*;
/// fn check(total: i64) -> StepResult {
///     ensure_eq!(total, 3, "cart total");
///     Ok(())
/// }
/// let error = check(2).unwrap_err().to_string();
/// assert_eq!(error, "cart total: total == 3: left 2, right 3");
/// ```
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr $(,)?) => {
        $crate::ensure_eq!(@check $left, $right, ::std::string::String::new())
    };
    ($left:expr, $right:expr, $($message:tt)+) => {
        $crate::ensure_eq!(@check $left, $right, ::std::format!("{}: ", ::std::format!($($message)+)))
    };
    (@check $left:expr, $right:expr, $prefix:expr) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    return ::std::result::Result::Err($crate::__anyhow!(
                        "{}{} == {}: left {:?}, right {:?}",
                        $prefix,
                        ::std::stringify!($left),
                        ::std::stringify!($right),
                        left,
                        right
                    ));
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_eq_names_both_sides() {
        fn check(status: &str) -> crate::StepResult {
            crate::ensure_eq!(status, "pending");
            Ok(())
        }
        assert!(check("pending").is_ok());
        let error = check("shipped").unwrap_err().to_string();
        assert_eq!(
            error,
            "status == \"pending\": left \"shipped\", right \"pending\""
        );
    }
    use serde_json::json;

    fn mismatches(actual: Value, expected: Value) -> Vec<String> {
        match expect_subset(&actual, &expected) {
            Ok(()) => Vec::new(),
            Err(e) => e.mismatches.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn pointers_and_dotted_paths_reach_the_same_values() {
        let v = json!({ "data": [{ "id": "a" }, { "id": "b" }], "p": { "total": 2 } });
        assert_eq!(v.str_at("/data/1/id"), Ok("b"));
        assert_eq!(v.str_at("data.1.id"), Ok("b"));
        assert_eq!(v.i64_at("/p/total"), Ok(2));
        assert_eq!(v.i64_at("p.total"), Ok(2));
        assert_eq!(v.at(""), Ok(&v));
        assert_eq!(v.ids_at("/data"), Ok(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(v.data().map(Vec::len), Ok(2));
    }

    #[test]
    fn pointer_escapes_are_decoded_and_shown() {
        let v = json!({ "a/b": { "m~n": 1 } });
        assert_eq!(v.i64_at("/a~1b/m~0n"), Ok(1));
        let e = v.at("/a~1b/x~0y").unwrap_err().to_string();
        assert_eq!(e, r#"/a~1b/x~0y: missing; /a~1b has keys "m~n""#);
    }

    #[test]
    fn a_missing_index_names_the_array_length() {
        let v = json!({ "data": [] });
        let e = v.at("/data/0/id").unwrap_err();
        assert_eq!(e.to_string(), "/data/0/id: missing; /data has 0 items");
        assert_eq!(
            e,
            JsonError::Missing {
                path: "/data/0/id".into(),
                parent: "/data".into(),
                found: "has 0 items".into(),
            }
        );
        let v = json!([1, 2]);
        assert_eq!(
            v.at("/01").unwrap_err().to_string(),
            "/01: missing; (root) has 2 items"
        );
        assert_eq!(
            v.at("/x").unwrap_err().to_string(),
            "/x: missing; (root) has 2 items"
        );
    }

    #[test]
    fn a_missing_key_lists_the_keys_there() {
        let v = json!({ "user": { "id": "u1", "role": "admin" } });
        assert_eq!(
            v.str_at("user.email").unwrap_err().to_string(),
            r#"/user/email: missing; /user has keys "id", "role""#
        );
        assert_eq!(
            json!({}).at("/a/b").unwrap_err().to_string(),
            "/a/b: missing; (root) is an empty object"
        );
    }

    #[test]
    fn going_through_a_scalar_or_null_says_what_is_there() {
        let v = json!({ "user": null, "name": "Lamp" });
        assert_eq!(
            v.at("/user/id").unwrap_err().to_string(),
            "/user/id: missing; /user is null"
        );
        assert_eq!(
            v.at("/name/first").unwrap_err().to_string(),
            r#"/name/first: missing; /name is a string: "Lamp""#
        );
    }

    #[test]
    fn typed_getters_name_the_expected_kind_and_the_value_found() {
        let v = json!({ "price": "12", "n": 1.5, "ok": 1, "s": null, "items": {} });
        let cases = [
            (
                v.f64_at("price").map(|_| ()),
                r#"/price: expected a number, got "12""#,
            ),
            (
                v.i64_at("n").map(|_| ()),
                "/n: expected an integer, got 1.5",
            ),
            (
                v.bool_at("ok").map(|_| ()),
                "/ok: expected a boolean, got 1",
            ),
            (v.str_at("s").map(|_| ()), "/s: expected a string, got null"),
            (
                v.array_at("items").map(|_| ()),
                "/items: expected an array, got {}",
            ),
            (
                v.object_at("n").map(|_| ()),
                "/n: expected an object, got 1.5",
            ),
            (v.at("s").map(|_| ()), "/s: expected a value, got null"),
        ];
        for (result, message) in cases {
            assert_eq!(result.unwrap_err().to_string(), message);
        }
        assert_eq!(v.opt_at("s"), None);
        assert_eq!(v.opt_at("nothing"), None);
        assert_eq!(v.opt_at("ok"), Some(&json!(1)));
        assert_eq!(v.f64_at("ok"), Ok(1.0));
    }

    #[test]
    fn ids_at_names_the_item_without_an_id() {
        let v = json!({ "data": [{ "id": "a" }, { "name": "b" }] });
        assert_eq!(
            v.ids_at("data").unwrap_err().to_string(),
            r#"/data/1/id: missing; /data/1 has keys "name""#
        );
        assert_eq!(
            v.ids_at("/data/0").unwrap_err().to_string(),
            r#"/data/0: expected an array, got {"id":"a"}"#
        );
    }

    #[test]
    fn subset_ignores_extra_keys_and_matches_nested_objects() {
        let actual = json!({ "a": 1, "b": { "c": "x", "d": [1, 2] }, "e": true });
        assert!(mismatches(actual.clone(), json!({})).is_empty());
        assert!(mismatches(actual.clone(), json!({ "b": { "c": "x" } })).is_empty());
        assert_eq!(
            mismatches(actual, json!({ "b": { "c": "y", "z": 0 }, "e": false })),
            [
                r#"/b/c: expected "y", got "x""#,
                "/b/z: missing, expected 0",
                "/e: expected false, got true",
            ]
        );
    }

    #[test]
    fn subset_matches_arrays_by_position_and_length() {
        let actual = json!({ "bids": [{ "amount": 1, "by": "u" }, { "amount": 2 }] });
        assert!(mismatches(actual.clone(), json!({ "bids": [{ "amount": 1 }, {}] })).is_empty());
        assert_eq!(
            mismatches(actual.clone(), json!({ "bids": [{ "amount": 2 }] })),
            [
                r#"/bids: expected 1 items, got 2: [{"amount":1,"by":"u"},{"amount":2}]"#,
                "/bids/0/amount: expected 2, got 1",
            ]
        );
        assert_eq!(
            mismatches(json!({ "bids": [] }), json!({ "bids": [{}] })),
            ["/bids: expected 1 items, got 0: []"]
        );
        assert_eq!(
            mismatches(json!([1, 2]), json!([2, 1])),
            ["/0: expected 2, got 1", "/1: expected 1, got 2"]
        );
    }

    #[test]
    fn subset_reports_kind_mismatches() {
        assert_eq!(
            mismatches(json!({ "u": "x" }), json!({ "u": { "id": 1 } })),
            [r#"/u: expected an object, got "x""#]
        );
        assert_eq!(
            mismatches(json!({ "u": {} }), json!({ "u": [] })),
            ["/u: expected an array, got {}"]
        );
        assert_eq!(
            mismatches(json!({ "n": "1" }), json!({ "n": 1 })),
            [r#"/n: expected 1, got "1""#]
        );
        assert_eq!(
            mismatches(json!([1]), json!({ "a": 1 })),
            ["(root): expected an object, got [1]"]
        );
    }

    #[test]
    fn subset_numbers_match_by_value() {
        assert!(mismatches(json!({ "n": 1 }), json!({ "n": 1.0 })).is_empty());
        assert!(mismatches(json!({ "n": 1.0 }), json!({ "n": 1 })).is_empty());
        assert!(mismatches(json!({ "n": u64::MAX }), json!({ "n": u64::MAX })).is_empty());
        assert!(mismatches(json!({ "n": -3 }), json!({ "n": -3.0 })).is_empty());
        assert_eq!(
            mismatches(json!({ "n": 1.5 }), json!({ "n": 1 })),
            ["/n: expected 1, got 1.5"]
        );
        assert_eq!(
            mismatches(json!({ "n": i64::MAX }), json!({ "n": i64::MAX - 1 })),
            [format!("/n: expected {}, got {}", i64::MAX - 1, i64::MAX)]
        );
    }

    #[test]
    fn subset_null_means_absent_or_null() {
        assert!(mismatches(json!({}), json!({ "c": null })).is_empty());
        assert!(mismatches(json!({ "c": null }), json!({ "c": null })).is_empty());
        assert_eq!(
            mismatches(json!({ "c": "X" }), json!({ "c": null })),
            [r#"/c: expected null, got "X""#]
        );
        assert_eq!(
            mismatches(json!({ "c": null }), json!({ "c": "X" })),
            [r#"/c: expected "X", got null"#]
        );
    }

    #[test]
    fn subset_error_text_counts_and_joins_mismatches() {
        let one = expect_subset(&json!({ "s": "ended" }), &json!({ "s": "live" }));
        assert_eq!(
            one.unwrap_err().to_string(),
            r#"/s: expected "live", got "ended""#
        );
        let two = expect_subset(&json!({}), &json!({ "a": 1, "b~/": 2 }));
        assert_eq!(
            two.unwrap_err().to_string(),
            "2 mismatches: /a: missing, expected 1; /b~0~1: missing, expected 2"
        );
    }

    #[test]
    fn expect_each_checks_every_item_and_names_its_index() {
        let list = json!([{ "s": "a", "n": 1 }, { "s": "b" }, { "s": "a" }]);
        let list = list.array_at("").unwrap();
        assert_eq!(expect_each(list, &json!({})), Ok(()));
        assert_eq!(expect_each(&[], &json!({ "s": "a" })), Ok(()));
        let e = expect_each(list, &json!({ "s": "a" })).unwrap_err();
        assert_eq!(e.to_string(), r#"/1/s: expected "a", got "b""#);
        let e = expect_each(list, &json!({ "n": 1 })).unwrap_err();
        assert_eq!(
            e.to_string(),
            "2 mismatches: /1/n: missing, expected 1; /2/n: missing, expected 1"
        );
        let e = expect_each(&[json!("x")], &json!({ "s": "a" })).unwrap_err();
        assert_eq!(e.to_string(), r#"/0: expected an object, got "x""#);
    }

    #[test]
    fn find_subset_returns_the_first_match() {
        let list = [
            json!({ "id": 1, "k": "x" }),
            json!({ "id": 2, "k": "y" }),
            json!({ "id": 3, "k": "y" }),
        ];
        assert_eq!(find_subset(&list, &json!({ "k": "y" })), Ok(&list[1]));
        assert_eq!(find_subset(&list, &json!({ "id": 1.0 })), Ok(&list[0]));
        let e = find_subset(&list, &json!({ "k": "z" })).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(r#"(root): none of 3 items contains {"k":"z"}: [{"id":1"#),
            "{e}"
        );
        let e = find_subset(&[], &json!({})).unwrap_err();
        assert_eq!(e.to_string(), "(root): none of 0 items contains {}: []");
    }

    #[test]
    fn the_macro_takes_json_syntax_with_variables() {
        let status = "live";
        let v = json!({ "status": "live", "bids": [{ "n": 1 }] });
        assert_eq!(
            expect_json!(v, { "status": status, "bids": [{ "n": 1 }] }),
            Ok(())
        );
        assert!(expect_json!(v, { "status": "ended" }).is_err());
        let first = || -> Result<(), Box<dyn std::error::Error>> {
            expect_json!(v.at("/bids/0")?, { "n": 1.0 })?;
            Ok(expect_json!(&v, { "bids": [{}] })?)
        };
        assert!(first().is_ok());
    }

    #[test]
    fn short_cuts_long_values() {
        let long = json!("x".repeat(400));
        let text = short(&long);
        assert!(text.ends_with("… (402 bytes in all)"), "{text}");
        assert_eq!(short(&json!({ "a": 1 })), r#"{"a":1}"#);
    }
}
