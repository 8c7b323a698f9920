// Opens report.html (written by `cargo test --test report_html`) in headless Debian Chromium:
// the page of a run with failures, a flaky workflow and a dependency chain must show no
// console error and make no network request, draw one timeline lane per workflow, and show a
// failure's transcript on a click; a screenshot is kept. Then the 10,000-workflow page: one
// lane per workflow, a bounded DOM, and its first paint printed (a figure, not a check).
//
//   node report.mjs [OUT_DIR]     (OUT_DIR holds report-fixture/ and report-10k/)
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const outDir = resolve(process.argv[2] || "target/browser");

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function embedded(path) {
  const html = readFileSync(path, "utf8");
  const start = html.indexOf('id="report-data">') + 'id="report-data">'.length;
  return JSON.parse(html.slice(start, html.indexOf("</script>", start)));
}

async function open(context, path) {
  const page = await context.newPage();
  const problems = [];
  const self = pathToFileURL(path).href;
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("request", (r) => { if (r.url() !== self) problems.push("request: " + r.url()); });
  const started = Date.now();
  await page.goto(self);
  await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
  const ready = Date.now() - started;
  return { page, problems, ready };
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), "report-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    // The fixture run.
    const fixture = join(outDir, "report-fixture", "report.html");
    const report = embedded(fixture);
    const { page, problems } = await open(context, fixture);
    const lanes = await page.getAttribute("canvas.wt-canvas", "data-lanes");
    check(Number(lanes) === report.workflows.length, `lanes: ${lanes}, workflows: ${report.workflows.length}`);
    const failures = await page.locator(".failure[data-workflow]").count();
    check(failures === report.failed, `failures shown: ${failures}, failed: ${report.failed}`);
    const transcript = page.locator('.failure[data-workflow="order-history"] pre.transcript');
    check(!(await transcript.isVisible()), "the transcript starts closed");
    await page.click('.failure[data-workflow="order-history"] .show-transcript');
    check(await transcript.isVisible(), "a click shows the transcript");
    const text = await transcript.textContent();
    check(text.includes("> GET ") && text.includes("/broken") && text.includes("< 500"), `transcript: ${text}`);
    const flaky = await page.locator("#flaky .failure").count();
    check(flaky === 1, `flaky workflows shown: ${flaky}`);
    // Hovering a lane names its workflow.
    await page.locator("canvas.wt-canvas").scrollIntoViewIfNeeded();
    const box = await page.locator("canvas.wt-canvas").boundingBox();
    await page.mouse.move(box.x + 400, box.y + 22 + 18 + 9);
    const tip = await page.locator(".wt-tip").textContent();
    check(tip.includes(report.workflows[1].workflowName), `tooltip: ${tip}`);
    // A filter narrows the list and the timeline.
    await page.selectOption("#filter-status", "completed");
    const narrowed = await page.getAttribute("canvas.wt-canvas", "data-lanes");
    check(Number(narrowed) === report.completed, `lanes after the filter: ${narrowed}`);
    await page.selectOption("#filter-status", "");
    await page.goto(pathToFileURL(fixture).href + "#workflow-browse-catalog");
    await page.waitForSelector("#workflow-browse-catalog[open]");
    await page.goto(pathToFileURL(fixture).href);
    await page.waitForSelector("body[data-ready=true]");
    await page.click('.failure[data-workflow="order-history"] .show-transcript');
    await page.screenshot({ path: join(outDir, "report.png"), fullPage: true });
    check(problems.length === 0, problems.join("\n"));
    console.log(`report.html: ${lanes} lanes, ${failures} failures, transcript shown, screenshot ${join(outDir, "report.png")}`);

    // The 10,000-workflow page.
    const big = join(outDir, "report-10k", "report.html");
    const large = await open(context, big);
    const paint = await large.page.evaluate(() => {
      const entry = performance.getEntriesByName("first-contentful-paint")[0];
      return entry ? Math.round(entry.startTime) : null;
    });
    const bigLanes = await large.page.getAttribute("canvas.wt-canvas", "data-lanes");
    check(Number(bigLanes) === 10000, `lanes: ${bigLanes}`);
    const nodes = await large.page.evaluate(() => document.getElementsByTagName("*").length);
    check(nodes < 20000, `the 10,000-workflow page has ${nodes} elements`);
    await large.page.evaluate(() => { const v = document.querySelector(".wt-viewport"); v.scrollTop = v.scrollHeight; });
    await large.page.waitForTimeout(100);
    check(large.problems.length === 0, large.problems.join("\n"));
    console.log(`report.html of 10,000 workflows: first contentful paint ${paint} ms, ready in ${large.ready} ms, ${nodes} elements`);
  } finally {
    await context.close();
  }
}

main().catch((e) => {
  console.error("report browser test failed:", e.message);
  process.exit(1);
});
