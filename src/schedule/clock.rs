//! The clock schedules and alert retries run on: the system's in production, a manual one
//! in tests, which move it by hand and can wait until something is asleep on it (a
//! deterministic signal that the scheduler got to the point of waiting for a time).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// The longest one real sleep lasts before the time is read again, so a wall clock that
/// jumps (NTP, a suspended machine) is noticed within this.
const REAL_RECHECK: Duration = Duration::from_secs(30);

/// "Now" and a way to wait until a time.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<ManualClock>);

impl Clock {
    /// The system's wall clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock standing at `start` that moves only when the returned handle says.
    pub fn manual(start: DateTime<Utc>) -> (Clock, ManualClock) {
        let manual = ManualClock(Arc::new(
            watch::channel(ManualState {
                now: start,
                sleepers: Vec::new(),
            })
            .0,
        ));
        (Clock(Some(manual.clone())), manual)
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(manual) => manual.now(),
        }
    }

    /// Completes once the time is `at` or later.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        match &self.0 {
            None => loop {
                let left = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left.min(REAL_RECHECK)).await;
            },
            Some(manual) => manual.sleep_until(at).await,
        }
    }

    /// Completes `delay` from now.
    pub async fn sleep(&self, delay: Duration) {
        let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        let at = self
            .now()
            .checked_add_signed(delay)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.sleep_until(at).await;
    }
}

#[derive(Debug)]
struct ManualState {
    now: DateTime<Utc>,
    /// The times someone is asleep until, one entry per sleeper.
    sleepers: Vec<DateTime<Utc>>,
}

/// The hand on a manual [`Clock`].
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<watch::Sender<ManualState>>);

impl ManualClock {
    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.0.borrow().now
    }

    /// Moves the clock to `at` (never backwards); the sleepers due by then wake.
    pub fn set(&self, at: DateTime<Utc>) {
        self.0.send_modify(|state| state.now = state.now.max(at));
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.set(self.now() + by);
    }

    /// Completes when something is asleep until exactly `at`.
    pub async fn sleeping_until(&self, at: DateTime<Utc>) {
        self.sleeping_until_n(at, 1).await;
    }

    /// Completes when at least `n` things are asleep until exactly `at`.
    pub async fn sleeping_until_n(&self, at: DateTime<Utc>, n: usize) {
        self.sleepers_are(|all| all.iter().filter(|t| **t == at).count() >= n)
            .await;
    }

    /// Completes when the times things are asleep until (earliest first) satisfy `check`.
    pub async fn sleepers_are(&self, check: impl Fn(&[DateTime<Utc>]) -> bool) {
        let mut state = self.0.subscribe();
        let _ = state
            .wait_for(|s| {
                let mut all = s.sleepers.clone();
                all.sort();
                check(&all)
            })
            .await;
    }

    /// The times things are asleep until, earliest first.
    pub fn sleepers(&self) -> Vec<DateTime<Utc>> {
        let mut all = self.0.borrow().sleepers.clone();
        all.sort();
        all
    }

    async fn sleep_until(&self, at: DateTime<Utc>) {
        let mut state = self.0.subscribe();
        if state.borrow().now >= at {
            return;
        }
        self.0.send_modify(|s| s.sleepers.push(at));
        // Removed however the wait ends (also when the sleeping future is dropped).
        let _registered = Registered(self, at);
        let _ = state.wait_for(|s| s.now >= at).await;
    }
}

struct Registered<'a>(&'a ManualClock, DateTime<Utc>);

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let at = self.1;
        self.0.0.send_modify(|s| {
            if let Some(i) = s.sleepers.iter().position(|t| *t == at) {
                s.sleepers.swap_remove(i);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_when_moved() {
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let (clock, hand) = Clock::manual(start);
        let later = start + chrono::Duration::minutes(5);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(later).await }
        });
        hand.sleeping_until(later).await;
        assert_eq!(hand.sleepers(), [later]);
        hand.advance(Duration::from_secs(60));
        hand.set(later);
        sleeper.await.unwrap();
        assert!(hand.sleepers().is_empty());
        assert_eq!(clock.now(), later);
        // Already due: no wait.
        clock.sleep_until(start).await;
    }
}
