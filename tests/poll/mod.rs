//! Waiting for a condition instead of sleeping a fixed time: the check runs every 10 ms until
//! it holds, and a test that waits longer than a generous deadline fails, naming what it
//! waited for and what it saw last. The deadline only bounds a broken test; no assertion
//! depends on how long the wait took.
#![allow(dead_code)]

use std::future::Future;
use std::time::{Duration, Instant};

/// How long a test waits for anything before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The pause between two checks.
const INTERVAL: Duration = Duration::from_millis(10);

/// Runs `check` until it gives `Ok`, and returns that; after [`DEADLINE`], panics naming
/// `what` and the last `Err` (what `check` saw instead).
pub async fn until_ok<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(seen) => give_up_after(deadline, what, &seen),
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// Runs `check` until it holds; panics after [`DEADLINE`] naming `what`.
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    until_ok(what, || {
        let holds = check();
        async move {
            if holds.await {
                Ok(())
            } else {
                Err(String::new())
            }
        }
    })
    .await;
}

/// [`until_ok`] for a thread outside any runtime.
pub fn until_ok_blocking<T>(what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        match check() {
            Ok(value) => return value,
            Err(seen) => give_up_after(deadline, what, &seen),
        }
        std::thread::sleep(INTERVAL);
    }
}

/// [`until`] for a thread outside any runtime.
pub fn until_blocking(what: &str, mut check: impl FnMut() -> bool) {
    until_ok_blocking(what, || if check() { Ok(()) } else { Err(String::new()) });
}

fn give_up_after(deadline: Instant, what: &str, seen: &str) {
    let seen = if seen.is_empty() {
        String::new()
    } else {
        format!("; last seen:\n{seen}")
    };
    assert!(
        Instant::now() < deadline,
        "waited {DEADLINE:?} in vain until {what}{seen}"
    );
}
