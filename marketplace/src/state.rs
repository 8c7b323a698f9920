//! Shared application state: one mutex over the whole in-memory store.
//!
//! A single lock keeps multi-resource rules (order + stock + coupon usage, bid + auction)
//! atomic without any lock ordering to get wrong; handlers never hold it across an await.

use crate::store::Store;
use std::sync::{Arc, Mutex, MutexGuard};

/// State behind every handler.
#[derive(Debug)]
pub struct AppState {
    store: Mutex<Store>,
}

/// The handle handlers receive.
pub type Shared = Arc<AppState>;

impl AppState {
    /// Wraps a store.
    pub fn new(store: Store) -> Shared {
        Arc::new(AppState {
            store: Mutex::new(store),
        })
    }

    /// Locks the store. A poisoned lock is recovered: handlers validate before they mutate,
    /// so a panic cannot leave a half-applied change behind worth refusing service for.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}
