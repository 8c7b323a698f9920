//! Applying a PATCH body: a field the body carries overwrites the stored one, an absent field
//! keeps it. The `patch!`/`patch_some!` macros (in `routes/mod.rs`) apply these per field.

/// Overwrites `slot` with `v` when the body carried a value.
pub fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

/// Overwrites an optional field with `v` when the body carried a value (a PATCH cannot clear
/// an optional field by leaving it out).
pub fn set_some<T>(slot: &mut Option<T>, v: Option<T>) {
    if v.is_some() {
        *slot = v;
    }
}
