//! SIGINT and SIGTERM during a `cargo test` run: the first one interrupts the run (nothing new
//! starts, running workflows get a grace, the reports are written, the exit code says which
//! signal); a second one exits at once, except while the reports are being written, where it
//! waits the few milliseconds until the report set is complete.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tokio::sync::watch;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a CI runner cancelling the job.
    Terminate,
}

impl Signal {
    /// The name the reports and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as shells report a process the signal ended.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// Prints a line for the user (on stderr, above the live view's bars when they are drawn).
pub(crate) type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// The signals received so far, and the write phase a second signal must not cut.
#[derive(Clone)]
pub(crate) struct Signals {
    first: watch::Receiver<Option<Signal>>,
    writing: Arc<AtomicBool>,
    /// Exit code a second signal asked for while the reports were being written (0: none).
    exit_after_write: Arc<AtomicU8>,
}

impl Signals {
    /// Starts listening on `runtime`; `say` prints a line on stderr (through the live view when
    /// it draws, so the bars are not left behind). From now on SIGINT and SIGTERM no longer kill
    /// the process by themselves.
    pub fn listen(runtime: &tokio::runtime::Runtime, grace: std::time::Duration, say: Say) -> Self {
        let (tx, first) = watch::channel(None);
        let writing = Arc::new(AtomicBool::new(false));
        let exit_after_write = Arc::new(AtomicU8::new(0));
        let signals = Signals {
            first,
            writing: writing.clone(),
            exit_after_write: exit_after_write.clone(),
        };
        // Registered before this returns, so a signal right after cannot fall through to the
        // default action.
        let streams = runtime.block_on(async { Streams::new() });
        runtime.spawn(async move {
            let Some(mut streams) = streams else { return };
            let Some(signal) = streams.next().await else {
                return;
            };
            say(&format!(
                "{}: interrupting the run: nothing new starts, running workflows get {grace:?}; \
                 the reports are still written ({} again exits at once)",
                signal.name(),
                signal.name()
            ));
            let _ = tx.send(Some(signal));
            while let Some(again) = streams.next().await {
                if writing.load(Ordering::SeqCst) {
                    exit_after_write.store(again.exit_code(), Ordering::SeqCst);
                    continue;
                }
                say(&format!("{}: exiting at once", again.name()));
                std::process::exit(i32::from(again.exit_code()));
            }
        });
        signals
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<Signal> {
        *self.first.borrow()
    }

    /// Resolves with the first signal's name once one arrives.
    pub fn interrupted(&self) -> impl Future<Output = String> + Send + 'static {
        let mut first = self.first.clone();
        async move {
            let signal = match first.wait_for(Option::is_some).await {
                Ok(signal) => *signal,
                Err(_) => None,
            };
            match signal {
                Some(signal) => signal.name().to_owned(),
                None => std::future::pending().await,
            }
        }
    }

    /// Runs `write` (the report files) with a second signal deferred until it returns.
    pub fn while_writing<T>(&self, write: impl FnOnce() -> T) -> T {
        self.writing.store(true, Ordering::SeqCst);
        let result = write();
        self.writing.store(false, Ordering::SeqCst);
        let code = self.exit_after_write.load(Ordering::SeqCst);
        if code != 0 {
            eprintln!("exiting at once (second signal during the write of the reports)");
            std::process::exit(i32::from(code));
        }
        result
    }
}

#[cfg(unix)]
struct Streams {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Streams {
    fn new() -> Option<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Some(Streams {
            interrupt: signal(SignalKind::interrupt()).ok()?,
            terminate: signal(SignalKind::terminate()).ok()?,
        })
    }

    async fn next(&mut self) -> Option<Signal> {
        tokio::select! {
            got = self.interrupt.recv() => got.map(|()| Signal::Interrupt),
            got = self.terminate.recv() => got.map(|()| Signal::Terminate),
        }
    }
}

#[cfg(not(unix))]
struct Streams;

#[cfg(not(unix))]
impl Streams {
    fn new() -> Option<Self> {
        Some(Streams)
    }

    async fn next(&mut self) -> Option<Signal> {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| Signal::Interrupt)
    }
}
