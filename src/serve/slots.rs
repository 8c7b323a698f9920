//! Workflow slots shared by every run of the server (`[api] max_running`), and the bounded
//! queue of runs waiting for them (`[api] max_queued`).
//!
//! A run asks for `min(its workflows, its concurrency, max_running)` slots at once and runs its
//! engine with that concurrency, so the workflows running across all runs never exceed
//! `max_running`. Slots are a fair (FIFO) tokio semaphore: a run waiting for many slots keeps
//! its place, and runs behind it wait too, so a big run is never starved by small ones. A run
//! gives slots back as soon as it has fewer unfinished workflows than slots.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The server's workflow slots.
pub(super) struct Slots {
    semaphore: Arc<Semaphore>,
    max_running: usize,
    max_queued: usize,
    /// Runs waiting for slots (the lock also orders admissions).
    queued: Arc<Mutex<usize>>,
    /// Slots held by runs, for the status answers.
    held: Arc<AtomicUsize>,
}

/// A run's admission: slots now, or a place in the queue.
pub(super) enum Admission {
    /// The slots were free.
    Now(Held),
    /// Wait for them with [`Ticket::acquire`].
    Queued(Ticket),
}

/// A place in the queue; leaving it (dropping the ticket) frees the place.
pub(super) struct Ticket {
    semaphore: Arc<Semaphore>,
    wanted: usize,
    queued: Arc<Mutex<usize>>,
    held: Arc<AtomicUsize>,
}

/// Slots held by a run; dropped, they go back to the server.
pub(super) struct Held {
    permit: OwnedSemaphorePermit,
    held: Arc<AtomicUsize>,
}

/// The queue is full.
#[derive(Debug)]
pub(super) struct QueueFull {
    /// How many runs wait already.
    pub queued: usize,
}

impl Slots {
    /// `max_running` slots (at least 1) and a queue of `max_queued` runs.
    pub fn new(max_running: usize, max_queued: usize) -> Self {
        let max_running = max_running.clamp(1, Semaphore::MAX_PERMITS);
        Slots {
            semaphore: Arc::new(Semaphore::new(max_running)),
            max_running,
            max_queued,
            queued: Arc::new(Mutex::new(0)),
            held: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The most slots one run may hold.
    pub fn max_running(&self) -> usize {
        self.max_running
    }

    /// How many slots runs hold now.
    pub fn in_use(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// How many runs wait for slots now.
    pub fn queued(&self) -> usize {
        *lock(&self.queued)
    }

    /// Admits a run wanting `wanted` slots (clamped to `1..=max_running`): at once when the
    /// slots are free and nobody waits, else in the queue, else (queue full) refused.
    pub fn admit(&self, wanted: usize) -> Result<Admission, QueueFull> {
        let wanted = wanted.clamp(1, self.max_running);
        let mut queued = lock(&self.queued);
        // The semaphore is fair: while a run waits, the released slots go to it, so this
        // cannot overtake a queued run.
        if *queued == 0
            && let Ok(permit) = self.semaphore.clone().try_acquire_many_owned(count(wanted))
        {
            return Ok(Admission::Now(Held::new(permit, &self.held)));
        }
        if *queued >= self.max_queued {
            return Err(QueueFull { queued: *queued });
        }
        *queued += 1;
        Ok(Admission::Queued(Ticket {
            semaphore: self.semaphore.clone(),
            wanted,
            queued: self.queued.clone(),
            held: self.held.clone(),
        }))
    }
}

impl Ticket {
    /// Waits for the slots (first come, first served), leaving the queue. `None` only if
    /// the semaphore was closed, which this module never does.
    pub async fn acquire(self) -> Option<Held> {
        let permit = self
            .semaphore
            .clone()
            .acquire_many_owned(count(self.wanted))
            .await
            .ok()?;
        Some(Held::new(permit, &self.held))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut queued = lock(&self.queued);
        *queued = queued.saturating_sub(1);
    }
}

impl Held {
    fn new(permit: OwnedSemaphorePermit, held: &Arc<AtomicUsize>) -> Self {
        held.fetch_add(permit.num_permits(), Ordering::SeqCst);
        Held {
            permit,
            held: held.clone(),
        }
    }

    /// How many slots this is.
    pub fn count(&self) -> usize {
        self.permit.num_permits()
    }

    /// Gives back the slots beyond `keep` (at least one is kept while any is held).
    pub fn shrink_to(&mut self, keep: usize) {
        let extra = self.permit.num_permits().saturating_sub(keep.max(1));
        if extra == 0 {
            return;
        }
        if let Some(extra) = self.permit.split(extra) {
            self.held.fetch_sub(extra.num_permits(), Ordering::SeqCst);
            drop(extra);
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.held
            .fetch_sub(self.permit.num_permits(), Ordering::SeqCst);
    }
}

fn count(wanted: usize) -> u32 {
    u32::try_from(wanted).unwrap_or(u32::MAX)
}

fn lock(m: &Mutex<usize>) -> std::sync::MutexGuard<'_, usize> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn now(a: Result<Admission, QueueFull>) -> Held {
        match a {
            Ok(Admission::Now(held)) => held,
            _ => panic!("expected slots at once"),
        }
    }

    fn ticket(a: Result<Admission, QueueFull>) -> Ticket {
        match a {
            Ok(Admission::Queued(t)) => t,
            _ => panic!("expected a place in the queue"),
        }
    }

    #[tokio::test]
    async fn queue_is_fifo_bounded_and_big_runs_are_not_overtaken() {
        let slots = Slots::new(4, 2);
        let mut first = now(slots.admit(3));
        assert_eq!((first.count(), slots.in_use()), (3, 3));
        // Wanting more than exists is clamped to all of them; it must wait.
        let big = ticket(slots.admit(10));
        // A small run that would fit the one free slot still waits behind the big one.
        let small = ticket(slots.admit(1));
        assert_eq!(slots.queued(), 2);
        assert!(matches!(slots.admit(1), Err(QueueFull { queued: 2 })));

        let big = tokio::spawn(big.acquire());
        let small = tokio::spawn(small.acquire());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!big.is_finished() && !small.is_finished());
        first.shrink_to(1);
        assert_eq!((first.count(), slots.in_use()), (1, 1));
        drop(first);
        let big = big.await.unwrap().unwrap();
        assert_eq!((big.count(), slots.in_use()), (4, 4));
        assert_eq!(
            slots.queued(),
            1,
            "the big run left the queue, the small one waits"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!small.is_finished(), "no slot is free");
        drop(big);
        assert_eq!(small.await.unwrap().unwrap().count(), 1);
        assert_eq!(slots.queued(), 0);
        assert_eq!(slots.in_use(), 0);
    }

    #[test]
    fn a_dropped_ticket_frees_its_place() {
        let slots = Slots::new(1, 1);
        let _held = now(slots.admit(1));
        let waiting = ticket(slots.admit(1));
        assert!(slots.admit(1).is_err());
        drop(waiting);
        assert_eq!(slots.queued(), 0);
        let _again = ticket(slots.admit(1));
    }
}
