//! Where workflows panicked: a panic hook, installed once by the front end and chained to the
//! one before it, that
//!
//! - while a run is captured ([`capture`]), records each panic's message and `file:line:col`
//!   with the tokio task and thread it happened on, so the libtest failure text can name the
//!   location (the engine only gets the payload through the task's `JoinError`);
//! - while the live view draws ([`route_through`]), runs the previous hook (Rust's default one
//!   prints `thread '…' panicked at src/x.rs:12:5:` on stderr) with the bars cleared, so the
//!   message lands above them instead of being erased by the next redraw (see
//!   [`print_above`]).
//!
//! Outside both it only calls the previous hook: behavior stays the default.

use std::cell::Cell;
use std::panic::PanicHookInfo;
use std::sync::{Mutex, MutexGuard, Once, mpsc};
use std::time::Duration;

use indicatif::MultiProgress;

/// One panic seen while capturing.
#[derive(Debug, Clone)]
pub(crate) struct PanicRecord {
    /// The payload as text (`panic!`'s message), or a placeholder for other payloads.
    pub message: String,
    /// `file:line:col` of the `panic!`.
    pub location: Option<String>,
    /// The tokio task that panicked, when it was one.
    pub task: Option<tokio::task::Id>,
}

#[derive(Default)]
struct State {
    /// Active [`Capture`] guards.
    capturing: usize,
    records: Vec<PanicRecord>,
    /// The live view, while it draws.
    live: Option<MultiProgress>,
}

static STATE: Mutex<State> = Mutex::new(State {
    capturing: 0,
    records: Vec::new(),
    live: None,
});
static INSTALL: Once = Once::new();

thread_local! {
    /// Set on the threads [`print_above`] starts.
    static IS_HELPER: Cell<bool> = const { Cell::new(false) };
}

/// The state, even when a panic elsewhere poisoned the lock (the hook must never panic).
fn state() -> MutexGuard<'static, State> {
    STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let live = {
                let mut state = state();
                if state.capturing > 0 {
                    state.records.push(record(info));
                }
                if IS_HELPER.get() {
                    // The helper itself panicked (indicatif's lock poisoned?): stop routing
                    // rather than start a helper for the helper.
                    state.live = None;
                }
                state.live.clone()
            };
            match live {
                Some(multi) => print_above(multi, || previous(info)),
                None => previous(info),
            }
        }));
    });
}

/// Runs `print` (the previous hook, which writes to stderr) with the bars of `multi` cleared,
/// and has them redrawn below what it printed.
///
/// Not with `multi.suspend(print)` on the panicking thread: indicatif draws nothing on a
/// thread that is panicking, so the bars would stay, the message would be written over them,
/// and the next redraw (moving the cursor up by the height of the bars) would erase it. A
/// helper thread suspends the bars instead, and waits while this thread prints.
fn print_above(multi: MultiProgress, print: impl FnOnce()) {
    let (cleared_tx, cleared_rx) = mpsc::channel::<()>();
    let (printed_tx, printed_rx) = mpsc::channel::<()>();
    let helper = std::thread::Builder::new()
        .name("workflow-panic-print".into())
        .spawn(move || {
            IS_HELPER.set(true);
            multi.suspend(|| {
                let _ = cleared_tx.send(());
                // Until this thread printed (or gave up: the sender is dropped).
                let _ = printed_rx.recv();
            });
        });
    // The helper waits for indicatif's lock; should this thread hold it (a panic inside
    // indicatif), print anyway rather than hang.
    let cleared = helper.is_ok() && cleared_rx.recv_timeout(Duration::from_secs(2)).is_ok();
    print();
    drop(printed_tx);
    if let (true, Ok(helper)) = (cleared, helper) {
        // The bars are drawn again below the message before the unwinding goes on.
        let _ = helper.join();
    }
}

fn record(info: &PanicHookInfo<'_>) -> PanicRecord {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_owned());
    PanicRecord {
        message,
        location: info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
        task: tokio::task::try_id(),
    }
}

/// Records panics until dropped; see [`capture`].
pub(crate) struct Capture(());

/// Starts recording panics (installing the hook on first use); the records are dropped with
/// the last guard.
pub(crate) fn capture() -> Capture {
    install();
    state().capturing += 1;
    Capture(())
}

impl Drop for Capture {
    fn drop(&mut self) {
        let mut state = state();
        state.capturing = state.capturing.saturating_sub(1);
        if state.capturing == 0 {
            state.records.clear();
        }
    }
}

/// Until [`stop_routing`], the previous hook's output is printed with `multi`'s bars
/// suspended (above them).
pub(crate) fn route_through(multi: MultiProgress) {
    install();
    state().live = Some(multi);
}

/// Ends [`route_through`].
pub(crate) fn stop_routing() {
    state().live = None;
}

/// The location of the panic of tokio task `task`, removed from the records: what the
/// supervisor can call with its workflow task's `JoinHandle::id()` when the task panicked, to
/// put `file:line:col` into the workflow's error.
pub(crate) fn take_panic_location(task: tokio::task::Id) -> Option<String> {
    let mut state = state();
    let index = state.records.iter().position(|r| r.task == Some(task))?;
    state.records.remove(index).location
}

/// The distinct locations of the recorded panics whose message `error` names: a workflow's
/// error text ends with `panicked: <message>` (the supervisor's wording), or holds
/// `panicked with message "<message>"` (a tokio `JoinError`: a panic in a task the workflow
/// spawned). Several when workflows panicked with the same message in different places: the
/// records cannot tell which was whose.
pub(crate) fn locations_in(error: &str) -> Vec<String> {
    let state = state();
    let mut found: Vec<String> = Vec::new();
    for r in &state.records {
        let matches = error.ends_with(&format!("panicked: {}", r.message))
            || error.contains(&format!("panicked with message {:?}", r.message));
        if let (true, Some(location)) = (matches, &r.location)
            && !found.contains(location)
        {
            found.push(location.clone());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

    use super::*;

    /// A terminal that logs what is done to it.
    #[derive(Debug, Clone, Default)]
    struct Log(Arc<Mutex<Vec<String>>>);

    impl Log {
        fn push(&self, op: impl Into<String>) {
            self.0.lock().unwrap().push(op.into());
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    impl TermLike for Log {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("up {n}"));
            Ok(())
        }
        fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
            self.push(format!("down {n}"));
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.trim().is_empty() {
                self.push(s.trim());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.push("clear");
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Runs `f` on this thread while it unwinds, as a panic hook's code runs (without running
    /// the panic hook itself).
    fn while_unwinding(f: impl FnOnce()) {
        struct OnDrop<F: FnOnce()>(Option<F>);
        impl<F: FnOnce()> Drop for OnDrop<F> {
            fn drop(&mut self) {
                assert!(std::thread::panicking());
                if let Some(f) = self.0.take() {
                    f();
                }
            }
        }
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = OnDrop(Some(f));
            std::panic::resume_unwind(Box::new("unwinding"));
        }));
        assert!(unwound.is_err());
    }

    #[test]
    fn a_panic_message_goes_above_the_bars() {
        let log = Log::default();
        let multi =
            MultiProgress::with_draw_target(ProgressDrawTarget::term_like(Box::new(log.clone())));
        let bar = multi.add(ProgressBar::new(10));
        bar.set_style(ProgressStyle::with_template("{msg}").unwrap());
        bar.set_message("BAR");
        multi.suspend(|| {}); // drawn for sure
        log.take();

        // What indicatif does on a panicking thread: nothing, so the message would be written
        // over the bars and the next redraw would erase it.
        while_unwinding(|| multi.suspend(|| log.push("MESSAGE")));
        assert_eq!(log.take(), ["MESSAGE"]);

        while_unwinding(|| print_above(multi.clone(), || log.push("MESSAGE")));
        let ops = log.take();
        let printed = ops.iter().position(|op| op == "MESSAGE").unwrap();
        assert!(ops[..printed].contains(&"clear".to_owned()), "{ops:?}");
        assert!(!ops[..printed].contains(&"BAR".to_owned()), "{ops:?}");
        assert!(ops[printed + 1..].contains(&"BAR".to_owned()), "{ops:?}");
    }

    #[test]
    fn records_message_location_and_task_while_capturing() {
        let guard = capture();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (task, line) = runtime.block_on(async {
            let line = line!() + 1;
            let handle = tokio::spawn(async { panic!("unit-test kaboom {}", 7) });
            let id = handle.id();
            assert!(handle.await.unwrap_err().is_panic());
            (id, line)
        });
        let here = format!("{}:{line}:", file!());
        let found = locations_in("step \"x\" panicked: unit-test kaboom 7");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with(&here), "{found:?} vs {here}");
        let spawned = "step \"x\" failed: task 9 panicked with message \"unit-test kaboom 7\"";
        assert_eq!(locations_in(spawned), found);
        assert!(locations_in("step \"x\" panicked: other").is_empty());
        assert!(
            locations_in("step \"x\" panicked: not unit-test kaboom 7 at all").is_empty(),
            "the whole message, not a part"
        );
        let location = take_panic_location(task).unwrap();
        assert!(location.starts_with(&here), "{location}");
        assert!(take_panic_location(task).is_none(), "taken once");
        drop(guard);
    }
}
