//! The terminal's live view while a run goes on (stderr, TTY only), and the summary block at
//! the end. Both read the engine's events; neither touches libtest's stdout lines. Panic
//! messages printed while the view draws go above the bars ([`panics`]).

mod redirect;
mod summary;

use std::collections::{HashMap, VecDeque};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use libtest_mimic::{Arguments, ColorSetting, FormatSetting};
use tokio::sync::mpsc;

use crate::event::{Event, EventKind, LateGuard};
use crate::outcome::Status;
use crate::panics;
use crate::status::StatusBoard;
use crate::text::terminal_safe;

pub(crate) use summary::print_summary;

/// Running workflows shown at once; more are counted in the header.
const MAX_BARS: usize = 12;

/// How the run's terminal output looks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Output {
    /// Draw the live view.
    pub live: bool,
    /// Use colors on stderr.
    pub color: bool,
}

impl Output {
    /// Decides from the environment and libtest's flags: the live view needs stderr to be a
    /// terminal, libtest's pretty format, and `WORKFLOW_PROGRESS` not `0`; colors follow
    /// `--color`, `NO_COLOR` and whether stderr is a terminal.
    pub fn detect(args: &Arguments) -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match args.color {
            Some(ColorSetting::Always) => true,
            Some(ColorSetting::Never) => false,
            _ => stderr_tty && !no_color,
        };
        let pretty = !args.quiet && matches!(args.format, None | Some(FormatSetting::Pretty));
        let wanted = std::env::var("WORKFLOW_PROGRESS").map_or(true, |v| {
            !matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "0" | "false" | "no" | "off"
            )
        });
        Output {
            live: stderr_tty && pretty && wanted && !args.list && redirect::supported(),
            color,
        }
    }
}

/// The live view: a header with the run's counts and a bar per running workflow.
pub(crate) struct LiveView {
    multi: MultiProgress,
    redirect: Option<redirect::StdoutRedirect>,
    task: tokio::task::JoinHandle<()>,
}

impl LiveView {
    /// Starts drawing from `events` on `runtime`. When stdout is the same terminal, libtest's
    /// lines are routed through the view so bars never overwrite them; `args.color` is set so
    /// they keep their colors.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        events: mpsc::UnboundedReceiver<Event>,
        args: &mut Arguments,
        color: bool,
    ) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let redirect = if std::io::stdout().is_terminal() {
            if args.color.is_none() && color {
                args.color = Some(ColorSetting::Always);
            }
            // Without the redirect bars and lines would interleave; then draw nothing.
            match redirect::StdoutRedirect::start(multi.clone()) {
                Ok(r) => Some(r),
                Err(_) => {
                    multi.set_draw_target(ProgressDrawTarget::hidden());
                    None
                }
            }
        } else {
            None
        };
        // Rust's panic message (`thread '…' panicked at file:line:col:`) goes to stderr, where
        // the next redraw of the bars would overwrite it: print it with the bars suspended.
        panics::route_through(multi.clone());
        let state = Arc::new(Mutex::new(ViewState::new(multi.clone(), color)));
        let task = runtime.spawn(follow(events, state));
        LiveView {
            multi,
            redirect,
            task,
        }
    }

    /// Prints `line` on stderr above the bars (they are redrawn below it).
    pub fn say(&self) -> impl Fn(&str) + Send + Sync + 'static {
        let multi = self.multi.clone();
        move |line| multi.suspend(|| eprintln!("{line}"))
    }

    /// Removes the bars and gives stdout back; call after libtest printed its summary.
    pub fn finish(self, runtime: &tokio::runtime::Runtime) {
        self.task.abort();
        let _ = runtime.block_on(self.task);
        panics::stop_routing();
        let _ = self.multi.clear();
        if let Some(redirect) = self.redirect {
            redirect.restore();
        }
    }
}

async fn follow(mut events: mpsc::UnboundedReceiver<Event>, state: Arc<Mutex<ViewState>>) {
    while let Some(event) = events.recv().await {
        let done = matches!(event.kind, EventKind::RunFinished { .. });
        if let Ok(mut state) = state.lock() {
            state.apply(&event);
        }
        if done {
            break;
        }
    }
}

struct ViewState {
    multi: MultiProgress,
    header: ProgressBar,
    bars: HashMap<String, ProgressBar>,
    board: StatusBoard,
    guard: LateGuard,
    /// Running workflows without a bar, oldest first (some may have finished since).
    hidden: VecDeque<String>,
    style: ProgressStyle,
}

impl ViewState {
    fn new(multi: MultiProgress, color: bool) -> Self {
        let header = multi.add(ProgressBar::new_spinner());
        let header_template = if color {
            "{spinner:.cyan} {elapsed:>4} {msg}"
        } else {
            "{spinner} {elapsed:>4} {msg}"
        };
        header.set_style(
            ProgressStyle::with_template(header_template)
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        header.enable_steady_tick(Duration::from_millis(100));
        let bar_template = if color {
            "  {prefix:28!} {bar:20.green/dim} {pos:>3}% {wide_msg}"
        } else {
            "  {prefix:28!} {bar:20} {pos:>3}% {wide_msg}"
        };
        let style = ProgressStyle::with_template(bar_template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        ViewState {
            multi,
            header,
            bars: HashMap::new(),
            board: StatusBoard::default(),
            guard: LateGuard::default(),
            hidden: VecDeque::new(),
            style,
        }
    }

    fn apply(&mut self, event: &Event) {
        // Late events (a timed-out workflow's code going on) must not bring a bar back.
        if !self.guard.admit(&event.kind) {
            return;
        }
        self.board.apply(event);
        match &event.kind {
            EventKind::WorkflowStarted { workflow_id, .. } => {
                if self.bars.len() < MAX_BARS {
                    self.add_bar(workflow_id, 0, "starting".into());
                } else {
                    self.hidden.push_back(workflow_id.clone());
                }
            }
            EventKind::StepStarted {
                workflow_id, step, ..
            } => {
                if let Some(bar) = self.bars.get(workflow_id) {
                    bar.set_message(terminal_safe(step).into_owned());
                }
            }
            EventKind::StepFinished {
                workflow_id,
                progress,
                ..
            } => {
                if let Some(bar) = self.bars.get(workflow_id) {
                    bar.set_position(progress.round().clamp(0.0, 100.0) as u64);
                }
            }
            EventKind::WorkflowRetrying {
                workflow_id,
                attempt,
                ..
            } => {
                if let Some(bar) = self.bars.get(workflow_id) {
                    bar.set_position(0);
                    bar.set_message(format!("retrying (attempt {attempt})"));
                }
            }
            EventKind::WorkflowFinished { outcome: workflow } => {
                if let Some(bar) = self.bars.remove(&workflow.workflow_id) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                    self.show_hidden();
                }
            }
            _ => {}
        }
        self.header.set_message(self.counts());
    }

    fn add_bar(&mut self, workflow_id: &str, position: u64, message: String) {
        let bar = self.multi.add(ProgressBar::new(100));
        bar.set_style(self.style.clone());
        bar.set_prefix(workflow_id.to_owned());
        bar.set_position(position);
        bar.set_message(message);
        self.bars.insert(workflow_id.to_owned(), bar);
    }

    /// Gives a freed bar to the longest-waiting running workflow that had none (amortized
    /// O(1): the ones that finished meanwhile are dropped from the queue as they come up).
    fn show_hidden(&mut self) {
        while let Some(id) = self.hidden.pop_front() {
            let status = self
                .board
                .status(&id)
                .filter(|s| matches!(s.status, Status::Running | Status::Retrying))
                .cloned();
            if let Some(status) = status {
                let position = status.progress.round().clamp(0.0, 100.0) as u64;
                let step = terminal_safe(&status.current_step).into_owned();
                self.add_bar(&status.workflow_id, position, step);
                return;
            }
        }
    }

    /// The header's counts, O(1) per event: the board keeps them.
    fn counts(&self) -> String {
        let statuses = self.board.statuses();
        let count = |status| self.board.count(status);
        let finished = count(Status::Completed)
            + count(Status::Failed)
            + count(Status::Blocked)
            + count(Status::Cancelled);
        let running = count(Status::Running) + count(Status::Retrying);
        let hidden = running.saturating_sub(self.bars.len());
        let mut text = format!(
            "{finished}/{} done · {running} running · {} failed",
            statuses.len(),
            count(Status::Failed)
        );
        for (n, label) in [
            (count(Status::Blocked), "blocked"),
            (count(Status::Waiting), "waiting"),
            (self.board.flaky(), "flaky"),
        ] {
            if n > 0 {
                text.push_str(&format!(" · {n} {label}"));
            }
        }
        if hidden > 0 {
            text.push_str(&format!(" ({hidden} running not shown)"));
        }
        text
    }
}
