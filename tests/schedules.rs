//! Scheduled runs and alerts in serve mode, driven by a manual clock (no real waiting for
//! slots): a busy schedule skips instead of stacking, a workflow that starts failing alerts
//! once (JSON and Slack), its recovery alerts, a webhook that is down is retried with
//! doubling delays and never holds the schedules, and a restarted server neither replays
//! missed slots nor runs a slot twice nor repeats an alert.

mod serve;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use workflow_harness::history::{Journal, ServeHistory, SlotState, Store, Target};
use workflow_harness::schedule::{
    Alert, AlertFormat, Clock, Cron, ManualClock, Schedule, Scheduling, SlotNote, SlotOutcome,
};
use workflow_harness::serve::ServeContext;
use workflow_harness::{StepResult, WorkflowSpec};

use serve::{Server, context, gated};

const SUITE: &str = "pkg/scheduled";

/// The bound of every wait in these tests (a hang fails, never blocks CI).
const BOUND: Duration = Duration::from_secs(20);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// Minute `n` of 2026-01-01 (the slots of `* * * * *`).
fn minute(n: u32) -> DateTime<Utc> {
    at("2026-01-01T00:00:00Z") + chrono::Duration::minutes(i64::from(n))
}

/// A workflow whose step "Check" fails while `broken` is set.
fn switchable(id: &str, broken: Arc<AtomicBool>) -> WorkflowSpec {
    WorkflowSpec::new(id, format!("Workflow {id}"), move |cx| {
        let broken = broken.clone();
        Box::pin(async move {
            cx.step("Open", async |_| Ok(())).await?;
            cx.step("Check", async move |_| -> StepResult {
                if broken.load(Ordering::SeqCst) {
                    anyhow::bail!("broken on purpose");
                }
                Ok(())
            })
            .await
        })
    })
    .planned_steps(2)
}

fn every_minute(name: &str, ids: &[&str]) -> Schedule {
    Schedule {
        name: name.into(),
        cron: Cron::parse("* * * * *", "UTC").unwrap(),
        workflow_ids: ids.iter().map(|s| s.to_string()).collect(),
        tags: Vec::new(),
        skip_tags: Vec::new(),
        config: Default::default(),
    }
}

fn alert(url: &str, format: AlertFormat, retries: u32) -> Alert {
    Alert {
        url: url.parse().unwrap(),
        format,
        schedules: Vec::new(),
        retries,
        retry_delay: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
    }
}

async fn open_history(target: Target) -> Arc<ServeHistory> {
    tokio::task::spawn_blocking(move || {
        let journal = Journal::open_target(target, 1000);
        assert!(journal.is_open(), "{:?}", journal.error());
        Arc::new(ServeHistory::new(journal, SUITE.into()))
    })
    .await
    .unwrap()
}

/// A server over `workflows` with `schedules` and `alerts` on a manual clock at `start`;
/// its slot notes and the clock's hand.
struct Monitor {
    server: Server,
    hand: ManualClock,
    notes: mpsc::UnboundedReceiver<SlotNote>,
}

impl Monitor {
    async fn start(
        workflows: Vec<WorkflowSpec>,
        schedules: Vec<Schedule>,
        alerts: Vec<Alert>,
        start: DateTime<Utc>,
        history: Option<Target>,
        token: Option<&str>,
    ) -> Monitor {
        let (clock, hand) = Clock::manual(start);
        let (observer, notes) = mpsc::unbounded_channel();
        let mut ctx: ServeContext = context(workflows);
        if let Some(target) = history {
            ctx.history = Some(open_history(target).await);
        }
        ctx.token = token.map(str::to_owned);
        ctx.scheduling = Scheduling {
            schedules,
            alerts,
            clock,
            public_url: Some("https://monitor.example.com/".parse().unwrap()),
            observer: Some(observer),
        };
        Monitor {
            server: Server::start(ctx).await,
            hand,
            notes,
        }
    }

    /// Waits until the scheduler sleeps until `slot`, then moves the clock there.
    async fn reach(&self, slot: DateTime<Utc>) {
        self.reach_n(slot, 1).await;
    }

    /// Waits until `n` things sleep until `at`, then moves the clock there.
    async fn reach_n(&self, slot: DateTime<Utc>, n: usize) {
        tokio::time::timeout(BOUND, self.hand.sleeping_until_n(slot, n))
            .await
            .unwrap_or_else(|_| panic!("nothing sleeps until {slot}: {:?}", self.hand.sleepers()));
        self.hand.set(slot);
    }

    async fn note(&mut self) -> SlotNote {
        tokio::time::timeout(BOUND, self.notes.recv())
            .await
            .expect("a slot note")
            .expect("the server is running")
    }

    /// Moves to `slot` and waits for its note.
    async fn run_slot(&mut self, slot: DateTime<Utc>) -> SlotNote {
        self.reach(slot).await;
        let note = self.note().await;
        assert_eq!(note.slot, slot, "{note:?}");
        note
    }

    async fn get(&self, path: &str) -> Value {
        let response = reqwest::get(self.server.url(path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }
}

fn ran(note: &SlotNote) -> (String, bool) {
    match &note.outcome {
        SlotOutcome::Ran { run_id, passed } => (run_id.clone(), *passed),
        other => panic!("expected a run, got {other:?}"),
    }
}

/// A webhook that records each request's JSON body, answering the statuses of `answers` in
/// turn, then 200.
struct Hook {
    url: String,
    received: mpsc::UnboundedReceiver<Value>,
}

async fn hook(answers: Vec<u16>) -> Hook {
    let (sender, received) = mpsc::unbounded_channel();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let (sender, answers) = (sender.clone(), answers.clone());
            async move {
                let _ = sender.send(body);
                let status = answers.lock().unwrap().next().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Hook { url, received }
}

impl Hook {
    async fn next(&mut self) -> Value {
        tokio::time::timeout(BOUND, self.received.recv())
            .await
            .expect("a webhook request")
            .unwrap()
    }
}

/// An address nothing listens on (bound, then closed).
fn refused() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/hook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_schedule_skips_its_slots_and_never_stacks_runs() {
    // Repeated: the run's end and the next slot race in the scheduler's select.
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Sqlite(dir.path().join("h.sqlite"));
        let gate = Arc::new(Semaphore::new(0));
        let mut m = Monitor::start(
            vec![gated("slow", gate.clone())],
            vec![every_minute("busy", &["slow"])],
            Vec::new(),
            at("2026-01-01T00:00:30Z"),
            Some(target.clone()),
            None,
        )
        .await;
        m.reach(minute(1)).await;
        // The scheduler sleeps until the next slot only once the first run has started.
        for skipped in [minute(2), minute(3)] {
            let note = m.run_slot(skipped).await;
            match note.outcome {
                SlotOutcome::Skipped { reason } => {
                    assert!(reason.contains("run-1"), "{round}: {reason}")
                }
                other => panic!("{round}: slot {skipped} should be skipped: {other:?}"),
            }
        }
        gate.add_permits(1);
        let first = m.note().await;
        assert_eq!(first.slot, minute(1));
        assert_eq!(ran(&first), ("run-1".into(), true));
        gate.add_permits(1);
        let fourth = m.run_slot(minute(4)).await;
        assert_eq!(ran(&fourth), ("run-2".into(), true), "{round}");

        let listed = m.get("/api/test-workflows/schedules").await;
        let busy = &listed["schedules"][0];
        assert_eq!(busy["name"], "busy");
        let strip: Vec<&str> = busy["recent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["result"].as_str().unwrap())
            .collect();
        assert_eq!(
            strip,
            ["passed", "skipped", "skipped", "passed"],
            "{listed}"
        );
        assert_eq!(busy["last"]["runId"], "run-2");
        assert_eq!(busy["nextAt"], "2026-01-01T00:05:00Z");
        let runs = m.get("/api/test-workflows/runs").await;
        assert_eq!(
            runs["runs"].as_array().unwrap().len(),
            2,
            "never stacked: {runs}"
        );
        assert_eq!(runs["runs"][0]["schedule"], "busy");
        m.server.stop().await;

        // The history has every slot, and the runs with their schedule's name.
        let (slots, summary) = tokio::task::spawn_blocking(move || {
            let mut store = Store::open(&target).unwrap();
            (
                store.slots(SUITE, "busy", 10).unwrap(),
                store.run_summary("run-2").unwrap().unwrap(),
            )
        })
        .await
        .unwrap();
        let states: Vec<_> = slots.iter().map(|s| (s.state, s.run_id.clone())).collect();
        assert_eq!(
            states,
            [
                (SlotState::Ran, Some("run-1".into())),
                (SlotState::Skipped, None),
                (SlotState::Skipped, None),
                (SlotState::Ran, Some("run-2".into())),
            ]
        );
        assert_eq!(summary.schedule.as_deref(), Some("busy"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_alerts_once_and_its_recovery_alerts() {
    let broken = Arc::new(AtomicBool::new(true));
    let (mut generic, mut slack) = (hook(Vec::new()).await, hook(Vec::new()).await);
    let mut m = Monitor::start(
        vec![switchable("probe", broken.clone())],
        vec![every_minute("watch", &["probe"])],
        vec![
            alert(&generic.url, AlertFormat::Json, 0),
            alert(&slack.url, AlertFormat::Slack, 0),
        ],
        at("2026-01-01T00:00:30Z"),
        None,
        None,
    )
    .await;
    assert_eq!(ran(&m.run_slot(minute(1)).await), ("run-1".into(), false));
    let failing = generic.next().await;
    assert_eq!(failing["event"], "failing", "{failing}");
    assert_eq!(failing["schedule"], "watch");
    assert_eq!(failing["workflowId"], "probe");
    assert_eq!(failing["step"], "Check");
    assert!(
        failing["error"]
            .as_str()
            .unwrap()
            .contains("broken on purpose")
    );
    assert_eq!(failing["runId"], "run-1");
    assert_eq!(
        failing["runUrl"],
        "https://monitor.example.com/api/test-workflows/runs/run-1"
    );
    let text = slack.next().await;
    assert_eq!(
        text.as_object().unwrap().len(),
        1,
        "Slack takes {{\"text\"}}: {text}"
    );
    let text = text["text"].as_str().unwrap();
    assert!(
        text.contains("probe") && text.contains("\"Check\"") && text.contains("broken on purpose"),
        "{text}"
    );
    assert!(text.contains("<https://monitor.example.com/api/test-workflows/runs/run-1|run-1>"));

    // Still failing: no alert. Each webhook's messages go out in order, so a repeat would
    // arrive before the recovery.
    assert_eq!(ran(&m.run_slot(minute(2)).await), ("run-2".into(), false));
    broken.store(false, Ordering::SeqCst);
    assert_eq!(ran(&m.run_slot(minute(3)).await), ("run-3".into(), true));
    let recovered = generic.next().await;
    assert_eq!(
        recovered["event"], "recovered",
        "no repeat before: {recovered}"
    );
    assert_eq!(recovered["failingSince"], "run-1");
    assert_eq!(recovered["runId"], "run-3");
    let text = slack.next().await;
    assert!(
        text["text"].as_str().unwrap().contains("recovered"),
        "{text}"
    );
    // Passing on: nothing more.
    assert_eq!(ran(&m.run_slot(minute(4)).await), ("run-4".into(), true));
    m.server.stop().await;
    assert!(generic.received.try_recv().is_err());
    assert!(slack.received.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_is_down_is_retried_with_backoff_and_never_stops_the_schedule() {
    let broken = Arc::new(AtomicBool::new(true));
    // Answers 500 twice, then takes the message.
    let mut flaky = hook(vec![500, 500]).await;
    let mut m = Monitor::start(
        vec![switchable("probe", broken.clone())],
        vec![every_minute("watch", &["probe"])],
        vec![
            alert(&refused(), AlertFormat::Json, 2),
            alert(&flaky.url, AlertFormat::Json, 5),
        ],
        at("2026-01-01T00:00:30Z"),
        None,
        None,
    )
    .await;
    let t1 = minute(1);
    assert_eq!(ran(&m.run_slot(t1).await), ("run-1".into(), false));
    let first = flaky.next().await;
    // Both webhooks failed once: each waits the first delay (1 s) on the clock…
    m.reach_n(t1 + chrono::Duration::seconds(1), 2).await;
    assert_eq!(flaky.next().await, first, "the same message again");
    // …then twice that.
    m.reach_n(t1 + chrono::Duration::seconds(3), 2).await;
    assert_eq!(flaky.next().await, first);
    assert_eq!(first["event"], "failing");
    // The refused webhook gave up after its 3 attempts; the flaky one took it on its third.
    // Nothing sleeps on their behalf any more, and the schedule goes on.
    tokio::time::timeout(BOUND, m.hand.sleepers_are(|all| all == [minute(2)]))
        .await
        .unwrap_or_else(|_| panic!("sleepers: {:?}", m.hand.sleepers()));
    assert_eq!(ran(&m.run_slot(minute(2)).await), ("run-2".into(), false));
    broken.store(false, Ordering::SeqCst);
    assert_eq!(ran(&m.run_slot(minute(3)).await), ("run-3".into(), true));
    assert_eq!(flaky.next().await["event"], "recovered");
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_without_replaying_or_repeating() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::Sqlite(Path::new(dir.path()).join("h.sqlite"));
    let broken = Arc::new(AtomicBool::new(true));
    let mut alerts = hook(Vec::new()).await;
    let hook_url = alerts.url.clone();
    let start = |clock: DateTime<Utc>| {
        Monitor::start(
            vec![switchable("probe", broken.clone())],
            vec![every_minute("watch", &["probe"])],
            vec![alert(&hook_url, AlertFormat::Json, 0)],
            clock,
            Some(target.clone()),
            None,
        )
    };
    let mut m = start(at("2026-01-01T00:00:30Z")).await;
    assert_eq!(ran(&m.run_slot(minute(1)).await), ("run-1".into(), false));
    assert_eq!(alerts.next().await["event"], "failing");
    m.server.stop().await;

    // A clock behind the last slot run (a restart right away, a wall clock set back): the
    // slot already run is not run again; the next one is awaited.
    let m = start(minute(1) - chrono::Duration::seconds(20)).await;
    tokio::time::timeout(BOUND, m.hand.sleeping_until(minute(2)))
        .await
        .unwrap();
    assert_eq!(m.hand.sleepers(), [minute(2)], "not minute 1 again");
    m.server.stop().await;

    // Down over minutes 2 to 4: they are not replayed; minute 5 runs, numbered on.
    let mut m = start(minute(4) + chrono::Duration::seconds(10)).await;
    tokio::time::timeout(BOUND, m.hand.sleeping_until(minute(5)))
        .await
        .unwrap();
    assert_eq!(m.hand.sleepers(), [minute(5)]);
    assert_eq!(ran(&m.run_slot(minute(5)).await), ("run-2".into(), false));
    // Still failing after the restart: the alert is not sent again.
    broken.store(false, Ordering::SeqCst);
    assert_eq!(ran(&m.run_slot(minute(6)).await), ("run-3".into(), true));
    let recovered = alerts.next().await;
    assert_eq!(recovered["event"], "recovered", "no repeat: {recovered}");
    assert_eq!(recovered["failingSince"], "run-1");
    // The dashboard's strip spans the restarts.
    let listed = m.get("/api/test-workflows/schedules").await;
    let slots: Vec<&str> = listed["schedules"][0]["recent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slot"].as_str().unwrap())
        .collect();
    assert_eq!(
        slots,
        [
            "2026-01-01T00:01:00Z",
            "2026-01-01T00:05:00Z",
            "2026-01-01T00:06:00Z"
        ]
    );
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_are_added_and_removed_through_the_api_with_a_token() {
    let broken = Arc::new(AtomicBool::new(false));
    let workflows = || vec![switchable("probe", broken.clone())];
    let client = reqwest::Client::new();
    let body = json!({
        "name": "api-made", "cron": "*/2 * * * *", "timezone": "Europe/Berlin",
        "workflowIds": ["probe"], "config": { "retries": 1 }
    });

    // Without a token, schedules cannot be changed.
    let m = Monitor::start(workflows(), Vec::new(), Vec::new(), minute(0), None, None).await;
    let url = m.server.url("/api/test-workflows/schedules");
    let response = client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 403);
    m.server.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let target = Target::Sqlite(dir.path().join("h.sqlite"));
    let mut m = Monitor::start(
        workflows(),
        vec![every_minute("from-file", &["probe"])],
        Vec::new(),
        at("2026-01-01T00:00:30Z"),
        Some(target.clone()),
        Some("secret"),
    )
    .await;
    let url = m.server.url("/api/test-workflows/schedules");
    let post = |body: Value| client.post(&url).bearer_auth("secret").json(&body).send();
    let response = post(body.clone()).await.unwrap();
    assert_eq!(response.status(), 201);
    let made: Value = response.json().await.unwrap();
    assert_eq!(made["source"], "api");
    assert_eq!(made["timezone"], "Europe/Berlin");
    assert_eq!(post(body.clone()).await.unwrap().status(), 409);
    for (bad, says) in [
        (json!({"name": "x", "cron": "* * *"}), "cron \"* * *\""),
        (
            json!({"name": "x", "cron": "* * * * *", "timezone": "Nowhere"}),
            "timezone",
        ),
        (
            json!({"name": "x", "cron": "* * * * *", "workflowIds": ["nope"]}),
            "nope",
        ),
        (
            json!({"name": "x", "cron": "* * * * *", "config": {"colour": 1}}),
            "colour",
        ),
        (
            json!({"name": "x", "cron": "* * * * *", "every": 1}),
            "every",
        ),
    ] {
        let response = post(bad.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{bad}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"].as_str().unwrap().contains(says),
            "{bad}: {error}"
        );
    }
    // Both run: the file's every minute, the API's every other minute.
    m.reach(minute(1)).await;
    assert_eq!(m.note().await.schedule, "from-file");
    m.reach(minute(2)).await;
    let mut names = vec![m.note().await.schedule, m.note().await.schedule];
    names.sort();
    assert_eq!(names, ["api-made", "from-file"]);

    let delete = |path: &str| {
        client
            .delete(m.server.url(path))
            .bearer_auth("secret")
            .send()
    };
    let file_one = delete("/api/test-workflows/schedules/from-file")
        .await
        .unwrap();
    assert_eq!(file_one.status(), 409);
    assert_eq!(
        delete("/api/test-workflows/schedules?name=api-made")
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        delete("/api/test-workflows/schedules/api-made")
            .await
            .unwrap()
            .status(),
        404
    );
    let listed: Value = client
        .get(&url)
        .bearer_auth("secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["from-file"]);
    // Only the file's schedule is left to come due at minute 4.
    m.reach(minute(3)).await;
    assert_eq!(m.note().await.schedule, "from-file");
    m.reach(minute(4)).await;
    assert_eq!(m.note().await.schedule, "from-file");
    let kept = json!({"name": "kept", "cron": "* * * * *", "workflowIds": ["probe"]});
    assert_eq!(post(kept).await.unwrap().status(), 201);
    m.server.stop().await;
    assert!(m.notes.try_recv().is_err());

    // A restarted server has the API's schedule again (the deleted one not), from the
    // history: both come due at minute 6.
    let mut m = Monitor::start(
        workflows(),
        vec![every_minute("from-file", &["probe"])],
        Vec::new(),
        minute(5),
        Some(target),
        Some("secret"),
    )
    .await;
    m.reach_n(minute(6), 2).await;
    let mut names = vec![m.note().await.schedule, m.note().await.schedule];
    names.sort();
    assert_eq!(names, ["from-file", "kept"]);
    let listed: Value = client
        .get(m.server.url("/api/test-workflows/schedules"))
        .bearer_auth("secret")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sources: Vec<(&str, &str)> = listed["schedules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["source"].as_str().unwrap()))
        .collect();
    assert_eq!(sources, [("from-file", "config"), ("kept", "api")]);
    m.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_that_jumps_runs_only_the_latest_slot_due() {
    let mut m = Monitor::start(
        vec![switchable("probe", Arc::new(AtomicBool::new(false)))],
        vec![every_minute("watch", &["probe"])],
        Vec::new(),
        at("2026-01-01T00:00:30Z"),
        None,
        None,
    )
    .await;
    assert_eq!(ran(&m.run_slot(minute(1)).await), ("run-1".into(), true));
    // A suspended machine wakes at 00:05:10: minutes 2 to 4 are not run one after another.
    tokio::time::timeout(BOUND, m.hand.sleeping_until(minute(2)))
        .await
        .unwrap();
    m.hand.set(minute(5) + chrono::Duration::seconds(10));
    let note = m.note().await;
    assert_eq!(note.slot, minute(5), "{note:?}");
    assert_eq!(ran(&note), ("run-2".into(), true));
    tokio::time::timeout(BOUND, m.hand.sleepers_are(|all| all == [minute(6)]))
        .await
        .unwrap_or_else(|_| panic!("sleepers: {:?}", m.hand.sleepers()));
    m.server.stop().await;
    assert!(m.notes.try_recv().is_err(), "no other slot ran");
}
