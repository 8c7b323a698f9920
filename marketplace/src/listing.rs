//! Sorting and pagination of list endpoints: `{data, pagination:{page, limit, total,
//! totalPages, hasNext, hasPrev}}`.

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

/// Case-insensitive substring match.
pub fn contains(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}
