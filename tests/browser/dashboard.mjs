// Drives the serve-mode dashboard in headless Debian Chromium: pick three workflows, run them,
// wait for them to complete, check the statistics and the JSON download, compare the
// browser's WebSocket and EventSource on one more run, take screenshots.
//
//   DASHBOARD_URL=http://127.0.0.1:PORT node dashboard.mjs [SCREENSHOT_DIR]
//
// Run by scripts/browser-test.sh, which starts the server. Exits non-zero on any failure.
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.DASHBOARD_URL;
const outDir = resolve(process.argv[2] || "target/browser");
const chosen = ["user-profile", "wishlist-favorites", "seller-coupons"];
const RUN_TIMEOUT = 120_000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function main() {
  check(url, "DASHBOARD_URL is not set");
  mkdirSync(outDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const problems = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push("console error: " + m.text());
    });
    const byId = (id) => page.getByTestId(id);

    await page.goto(url);
    await byId("checkbox-user-profile").waitFor();
    const total = await page.locator('[data-testid^="checkbox-"]').count();
    check(total >= 3, `expected the suite's workflows, found ${total}`);
    console.log(`dashboard lists ${total} workflows`);

    // The filter narrows the list; select all/none act on what is shown.
    await byId("filter").fill("seller-coupons");
    check((await page.locator('[data-testid^="checkbox-"]').count()) === 1, "the filter keeps one workflow");
    await byId("select-all").click();
    await byId("select-none").click();
    await byId("filter").fill("");
    check((await byId("selected-count").textContent()).startsWith("0 of"), "select none clears");

    for (const id of chosen) await byId(`checkbox-${id}`).check();
    const count = await byId("selected-count").textContent();
    check(count.startsWith("3 of"), `selected count: ${count}`);

    await byId("run-button").click();
    // With the server's added latency (browser-test.sh) the run takes a moment: catch it live.
    const live = await page
      .waitForSelector('tr[data-status="running"]', { timeout: 5_000 })
      .then(() => true, () => false);
    if (live) {
      await page.screenshot({ path: join(outDir, "dashboard-running.png"), fullPage: true });
      console.log("caught the run live: dashboard-running.png");
    }
    for (const id of chosen) {
      await page.waitForFunction(
        (id) => document.querySelector(`[data-testid="status-${id}"]`)?.textContent === "completed",
        id,
        { timeout: RUN_TIMEOUT },
      ).catch(async (e) => {
        const status = await byId(`status-${id}`).textContent().catch(() => "absent");
        throw new Error(`${id} did not complete (status: ${status}): ${e.message}`);
      });
      const progress = await byId(`progress-${id}`).getAttribute("aria-valuenow");
      check(progress === "100", `${id} progress ${progress}`);
    }
    await byId("stats").waitFor({ state: "visible", timeout: RUN_TIMEOUT });
    const stat = async (id) => (await byId(id).textContent()).trim();
    check((await stat("stat-total")) === "3", "3 workflows in the totals");
    check((await stat("stat-completed")) === "3", "3 completed");
    check((await stat("stat-failed")).startsWith("0"), "0 failed");
    check((await stat("stat-success-rate")).endsWith("%"), "a success rate");
    const state = await byId("run-state").getAttribute("data-state");
    check(state === "finished", `run state ${state}`);
    console.log(`run finished: ${await byId("run-state").textContent()}`);
    // The timeline (report.html's component): one lane per workflow of the run.
    await byId("timeline").waitFor({ state: "visible" });
    const lanes = await page.getAttribute('[data-testid="timeline"] canvas.wt-canvas', "data-lanes");
    check(lanes === "3", `timeline lanes: ${lanes}`);

    // The JSON link answers the report, and clicking it downloads the file.
    const href = await byId("download-json").getAttribute("href");
    const response = await context.request.get(new URL(href, url).toString());
    check(response.status() === 200, `GET ${href}: ${response.status()}`);
    const report = await response.json();
    check(report.totalWorkflows === 3 && report.completed === 3, `report: ${JSON.stringify(report).slice(0, 200)}`);
    const ids = report.workflows.map((w) => w.workflowId).sort();
    check(JSON.stringify(ids) === JSON.stringify([...chosen].sort()), `report ids ${ids}`);
    const [download] = await Promise.all([page.waitForEvent("download"), byId("download-json").click()]);
    check(download.suggestedFilename().endsWith("report.json"), `download name ${download.suggestedFilename()}`);
    console.log(`JSON download ok: ${download.suggestedFilename()}`);
    // The per-step CSV: a header, then one row per step of the report's workflows.
    const stepsHref = await byId("download-steps").getAttribute("href");
    const steps = await context.request.get(new URL(stepsHref, url).toString());
    check(steps.status() === 200, `GET ${stepsHref}: ${steps.status()}`);
    const lines = (await steps.text()).trim().split("\n");
    check(lines[0].startsWith("Workflow,Step Number,Step Name,Status,Duration (ms),Error,Attempt"), `steps header: ${lines[0]}`);
    const stepCount = report.workflows.reduce((n, w) => n + w.result.steps.length, 0);
    check(lines.length === stepCount + 1, `steps CSV: ${lines.length - 1} rows for ${stepCount} steps`);
    console.log(`steps CSV ok: ${stepCount} rows`);

    // The browser's own WebSocket and EventSource on one more run: the same events, ids and
    // data, and the WebSocket ends with a normal close after runFinished.
    const streams = await page.evaluate(async () => {
      const started = await fetch("/api/test-workflows/parallel?async=true", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ workflowIds: ["admin-blog"] }),
      });
      const { runId } = await started.json();
      const viaWs = new Promise((resolve, reject) => {
        const seen = [];
        const ws = new WebSocket(`ws://${location.host}/api/test-workflows/runs/${runId}/ws?from=0`);
        ws.onmessage = (m) => {
          const e = JSON.parse(m.data);
          seen.push([e.id, e.event, JSON.stringify(e.data)]);
        };
        ws.onclose = (c) => resolve({ seen, code: c.code });
        ws.onerror = () => reject(new Error("WebSocket error"));
      });
      const viaSse = new Promise((resolve) => {
        const seen = [];
        const source = new EventSource(`/api/test-workflows/runs/${runId}/events?lastEventId=0`);
        const names = ["runStarted", "workflowStarted", "stepStarted", "stepFinished",
          "workflowRetrying", "workflowFinished", "runInterrupted", "runFinished"];
        for (const name of names) {
          source.addEventListener(name, (e) => {
            seen.push([Number(e.lastEventId), name, JSON.stringify(JSON.parse(e.data))]);
            if (name === "runFinished") {
              source.close();
              resolve(seen);
            }
          });
        }
      });
      const [ws, sse] = await Promise.all([viaWs, viaSse]);
      return { ws, sse };
    });
    check(streams.ws.code === 1000, `WebSocket close code ${streams.ws.code}`);
    check(streams.sse.length > 3, `SSE events: ${streams.sse.length}`);
    check(
      JSON.stringify(streams.ws.seen) === JSON.stringify(streams.sse),
      `WebSocket and SSE differ: ${streams.ws.seen.length} vs ${streams.sse.length} events`,
    );
    console.log(`WebSocket and EventSource agree on ${streams.sse.length} events`);

    // The History panel: the run just finished among the recent runs, and per workflow a
    // pass/fail strip (one mark per recorded run) and a duration sparkline.
    const runId = (await byId("run-id").textContent()).trim();
    await page.locator(`[data-testid="history-run"]:has-text("${runId}")`).first()
      .waitFor({ state: "visible", timeout: 10_000 })
      .catch((e) => { throw new Error(`run ${runId} not in the History panel: ${e.message}`); });
    for (const id of chosen) {
      const row = page.locator(`[data-testid="history-workflow"][data-id="${id}"]`);
      await row.waitFor({ state: "visible", timeout: 10_000 });
      const marks = await row.locator('[data-testid="history-strip"] i').count();
      check(marks >= 1, `${id}: ${marks} marks in its strip`);
      const last = await row.locator('[data-testid="history-strip"] i').last().getAttribute("class");
      check(last === "completed", `${id}: last mark ${last}`);
      check((await row.locator("svg.spark polyline").count()) === 1, `${id}: a sparkline`);
    }
    console.log("history panel ok");

    // The Schedules panel: the schedule of the test's harness.toml, not run yet, with its
    // next time (29 February, 03:00 in Berlin).
    const schedule = page.locator('[data-testid="schedule"][data-name="leap-day"]');
    await schedule.waitFor({ state: "visible", timeout: 20_000 })
      .catch((e) => { throw new Error(`the leap-day schedule is not shown: ${e.message}`); });
    const next = (await schedule.locator('[data-testid="schedule-next"]').textContent()).trim();
    const due = new Date((await page.evaluate(async () =>
      (await (await fetch("/api/test-workflows/schedules")).json()).schedules
        .find((s) => s.name === "leap-day").nextAt)));
    check(due.getUTCMonth() === 1 && due.getUTCDate() === 29, `next slot ${due.toISOString()}`);
    check(next !== "–" && next.length > 0, `next time shown: ${next}`);
    const lastResult = (await schedule.locator('[data-testid="schedule-last"]').textContent()).trim();
    check(lastResult === "–", `last result of a schedule that never ran: ${lastResult}`);
    check((await schedule.locator('[data-testid="schedule-strip"] i').count()) === 0, "an empty strip");
    console.log(`schedules panel ok (next ${next})`);

    await page.screenshot({ path: join(outDir, "dashboard.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(outDir, "dashboard-narrow.png"), fullPage: true });
    console.log(`screenshots in ${outDir}`);
    check(problems.length === 0, problems.join("\n"));
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(
  () => console.log("browser test passed"),
  (error) => {
    console.error("browser test FAILED: " + (error && error.stack ? error.stack : error));
    process.exit(1);
  },
);
