//! Sorting and pagination of list endpoints: `{data, pagination:{page, limit, total,
//! totalPages, hasNext, hasPrev}}`.

use crate::error::{ApiError, bad};
use serde::Serialize;
use serde_json::{Value, json};
use std::cmp::Ordering;

/// Stable sort by `key`, descending when `desc`.
pub fn sort<T, K: PartialOrd>(v: &mut [T], desc: bool, key: impl Fn(&T) -> K) {
    v.sort_by(|a, b| {
        let o = key(a).partial_cmp(&key(b)).unwrap_or(Ordering::Equal);
        if desc { o.reverse() } else { o }
    });
}

/// One page of `items` in the paginated envelope.
pub fn page<T: Serialize>(items: Vec<T>, page: usize, limit: usize) -> Value {
    let total = items.len();
    let total_pages = total.div_ceil(limit);
    let data: Vec<T> = items
        .into_iter()
        .skip((page - 1).saturating_mul(limit))
        .take(limit)
        .collect();
    json!({
        "data": data,
        "pagination": {
            "page": page,
            "limit": limit,
            "total": total,
            "totalPages": total_pages,
            "hasNext": page < total_pages,
            "hasPrev": page > 1,
        }
    })
}

/// `items` ordered by the request's `sortBy` key, built with one [`Sorted::by`] per key the
/// list offers; [`Sorted::page`] answers the page, or 400 naming `sortBy` for a key that no
/// `by` offered. The order is `desc`, as read by `Params::desc` (or the list's own default).
pub struct Sorted<'q, T> {
    items: Vec<T>,
    key: &'q str,
    desc: bool,
    done: bool,
}

impl<'q, T: Serialize> Sorted<'q, T> {
    /// Starts from `items` and the requested `sortBy` (`createdAt` when absent).
    pub fn new(items: Vec<T>, sort_by: Option<&'q str>, desc: bool) -> Self {
        Sorted {
            items,
            key: sort_by.unwrap_or("createdAt"),
            desc,
            done: false,
        }
    }

    /// Offers the sort key `names` (one name, or aliases separated by `|`), ordered by `key`.
    pub fn by<K: PartialOrd>(mut self, names: &str, key: impl Fn(&T) -> K) -> Self {
        if !self.done && names.split('|').any(|n| n == self.key) {
            sort(&mut self.items, self.desc, key);
            self.done = true;
        }
        self
    }

    /// One page of the sorted items in the paginated envelope (see [`page`]).
    pub fn page(self, page_no: usize, limit: usize) -> Result<Value, ApiError> {
        if !self.done {
            return Err(bad("sortBy", format!("unknown sort key '{}'", self.key)));
        }
        Ok(page(self.items, page_no, limit))
    }
}

/// Case-insensitive substring match.
pub fn contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}
