//! Assertions shared by the seller and admin workflows: a write stored what it sent, a list
//! holds exactly some ids, fields are numbers or strings, the return statistics.
//!
//! For the fields of one answer, use the library's `expect_json!(value, { … })`, which lists
//! every mismatch by path.

use workflow_harness::prelude::*;

/// `answer`, checked to hold all of `sent` (as `expect_subset` matches): the write stored it.
fn holds(answer: Value, sent: &Value) -> StepResult<Value> {
    expect_subset(&answer, sent).context("the answer does not hold what was sent")?;
    Ok(answer)
}

/// `POST path` with `body` (a 2xx answer), checked to hold all of `body`.
pub(crate) async fn post_stored(http: &Http, path: &str, body: Value) -> StepResult<Value> {
    holds(http.post_value(path, &body).await?, &body)
}

/// `PATCH path` with `body` (a 2xx answer), checked to hold all of `body`, then `GET path`,
/// checked to hold it too: an answer that says "stored" proves nothing until a read shows it.
pub(crate) async fn patch_stored(http: &Http, path: &str, body: Value) -> StepResult<Value> {
    let answer = holds(http.patch_value(path, &body).await?, &body)?;
    expect_subset(&http.get_value(path).await?, &body)
        .with_context(|| format!("GET {path} after the PATCH does not show what was sent"))?;
    Ok(answer)
}

/// [`expect_each`] on a list the seed data (or the workflow itself) guarantees is not empty:
/// "every item matches" must not pass on no items.
pub(crate) fn expect_some_each(items: &[Value], expected: &Value) -> StepResult {
    ensure!(
        !items.is_empty(),
        "the list is empty; expected items matching {expected}"
    );
    Ok(expect_each(items, expected)?)
}

/// Fails unless the ids of `list`'s `data` are exactly `expected`, in any order.
pub(crate) fn expect_ids(list: &Value, expected: &[String]) -> StepResult {
    let mut found = list.ids_at("data")?;
    let mut expected = expected.to_vec();
    found.sort();
    expected.sort();
    ensure!(
        found == expected,
        "expected the ids {expected:?}, got {found:?}"
    );
    Ok(())
}

/// Fails unless `list`'s `data` holds an item of id `id`; the error shows the items.
pub(crate) fn expect_listed(list: &Value, id: &str) -> StepResult {
    find_subset(list.data()?, &json!({ "id": id }))?;
    Ok(())
}

/// Fails unless each of `fields` of `value` is a number.
pub(crate) fn expect_numbers(value: &Value, fields: &[&str]) -> StepResult {
    for field in fields {
        value.f64_at(field)?;
    }
    Ok(())
}

/// Fails unless each of `fields` of `value` is a string.
pub(crate) fn expect_strings(value: &Value, fields: &[&str]) -> StepResult {
    for field in fields {
        value.str_at(field)?;
    }
    Ok(())
}

/// The fields of every returns statistics answer (the shop's and the marketplace's).
const RETURN_STATS: [&str; 6] = [
    "total",
    "pending",
    "approved",
    "rejected",
    "completed",
    "totalRefundAmount",
];

/// `GET path` (the returns statistics), checked to hold [`RETURN_STATS`] and `more` as numbers
/// and to count at least `own` returns (the ones this run filed).
pub(crate) async fn return_stats(
    http: &Http,
    path: &str,
    more: &[&str],
    own: usize,
) -> StepResult<Value> {
    let stats = http.get_value(path).await?;
    expect_numbers(&stats, &RETURN_STATS)?;
    expect_numbers(&stats, more)?;
    ensure!(
        stats.f64_at("total")? >= own as f64,
        "this run's returns are not counted: {}",
        short(&stats)
    );
    Ok(stats)
}

/// Deletes the resource at `path` unless it is already gone, then checks it is.
pub(crate) async fn delete_if_left(cx: &Ctx, path: &str) -> StepResult {
    let answer = cx.delete(path).await?;
    if answer.status() != StatusCode::NOT_FOUND {
        answer.expect_success()?;
    }
    cx.get(path).await?.expect_status(404)?;
    Ok(())
}
