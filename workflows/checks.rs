//! Assertions shared by the seller and admin workflows: one field against an expected value,
//! the ids of a list.
//!
//! For several fields at once, prefer the library's `expect_json!(value, { … })`, which lists
//! every mismatch.

use workflow_harness::prelude::*;

/// The ids of `list`'s `data` items.
pub(crate) fn ids(list: &Value) -> StepResult<Vec<String>> {
    Ok(list.ids_at("data")?)
}

/// Fails unless `value[key]` is the string `expected`.
pub(crate) fn expect_str(value: &Value, key: &str, expected: &str) -> StepResult {
    let got = value.str_at(key)?;
    ensure!(
        got == expected,
        "expected `{key}` = {expected:?}, got {got:?} in {}",
        short(value)
    );
    Ok(())
}

/// Fails unless `value[key]` is the number `expected` (to the cent).
pub(crate) fn expect_num(value: &Value, key: &str, expected: f64) -> StepResult {
    let got = value.f64_at(key)?;
    ensure!(
        (got - expected).abs() < 0.005,
        "expected `{key}` = {expected}, got {got} in {}",
        short(value)
    );
    Ok(())
}

/// Fails unless `value[key]` is the boolean `expected`.
pub(crate) fn expect_bool(value: &Value, key: &str, expected: bool) -> StepResult {
    let got = value.bool_at(key)?;
    ensure!(
        got == expected,
        "expected `{key}` = {expected}, got {got} in {}",
        short(value)
    );
    Ok(())
}
