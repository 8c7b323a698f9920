// report.html: everything is drawn from the JSON embedded in the page (report.json's schema);
// no request leaves the page. Text from the run only ever reaches the DOM as textContent.
(function () {
  'use strict';
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v; else if (k === 'text') node.textContent = v; else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    return node;
  };
  const ms = (n) => (n < 1000 ? n + ' ms' : (n / 1000).toFixed(2) + ' s');
  const failedish = (w) => w.status === 'failed' || w.status === 'blocked';

  // Summary.
  const stats = report.aggregateStats;
  const card = (label, value, kind) => el('div', { class: 'card ' + (kind || '') }, el('b', { text: String(value) }), label);
  const cards = $('cards');
  cards.append(
    card('workflows', report.totalWorkflows),
    card('completed', report.completed, 'ok'),
    card('failed', report.failed - (report.blocked || 0), report.failed ? 'bad' : ''),
    card('blocked', report.blocked || 0, report.blocked ? 'bad' : ''),
    card('cancelled', report.cancelled || 0, report.cancelled ? 'warn' : ''),
    card('flaky', report.flaky || 0, report.flaky ? 'warn' : ''),
    card('step success rate', stats.successRate.toFixed(1) + ' %'),
    card('wall time', ms(report.totalDuration)),
    card('average workflow', ms(Math.round(stats.averageDuration))),
  );
  const meta = [
    'run ' + report.runId,
    'started ' + new Date(report.startTime).toISOString(),
    'fastest ' + stats.fastestWorkflow,
    'slowest ' + stats.slowestWorkflow,
  ];
  if (report.baseUrl) meta.unshift('against ' + report.baseUrl);
  if (report.partition) meta.push('partition ' + JSON.stringify(report.partition));
  $('meta').textContent = meta.join(' · ');
  if (report.interrupted) $('banner').append(el('div', { class: 'banner', text: 'This run was interrupted: unfinished workflows are cancelled.' }));

  // Timeline.
  const timeline = new window.WorkflowTimeline($('timeline'), {
    onSelect: (lane) => { location.hash = 'workflow-' + lane.id; },
  });
  const allLanes = window.WorkflowTimeline.lanesOf(report);
  timeline.update(allLanes, report.totalDuration);

  // Step table and transcript of one workflow.
  function stepTable(w) {
    if (!w.result.steps.length) return el('p', { class: 'meta', text: 'No step ran.' });
    const table = el('table', {}, el('tr', {}, el('th', { class: 'num', text: '#' }), el('th', { text: 'step' }),
      el('th', { text: 'status' }), el('th', { class: 'num', text: 'start' }), el('th', { class: 'num', text: 'duration' }), el('th', { text: 'error' })));
    w.result.steps.forEach((s, i) => {
      const name = s.name + (s.tryCount ? ' (' + s.tryCount + (s.tryCount === 1 ? ' try)' : ' tries)') : '') + (s.optional ? ' · optional' : '');
      table.append(el('tr', {}, el('td', { class: 'num', text: String(i + 1) }), el('td', { text: name }),
        el('td', { class: 'status ' + s.status, text: s.status }), el('td', { class: 'num', text: ms(s.startOffset || 0) }),
        el('td', { class: 'num', text: ms(s.duration) }), el('td', { class: 'error-cell', text: s.error || '' })));
    });
    return table;
  }
  function transcriptText(steps) {
    const out = [];
    for (const s of steps) {
      for (const x of s.transcript || []) {
        const lines = ['> ' + x.method + ' ' + x.url];
        for (const [k, v] of x.requestHeaders || []) lines.push('> ' + k + ': ' + v);
        if (x.requestBody) lines.push(x.requestBody);
        lines.push(x.status != null ? '< ' + x.status + ' (' + x.duration + ' ms)' : '< no answer: ' + (x.error || ''));
        for (const [k, v] of x.responseHeaders || []) lines.push('< ' + k + ': ' + v);
        if (x.responseBody) lines.push(x.responseBody);
        out.push('[' + s.name + ']\n' + lines.join('\n'));
      }
    }
    return out.join('\n\n');
  }
  function transcriptBlock(w) {
    const failed = w.result.steps.filter((s) => s.status === 'failed');
    const steps = failed.length && (failed[0].transcript || []).length ? failed : w.result.steps;
    const text = transcriptText(steps);
    if (!text) return null;
    const pre = el('pre', { class: 'transcript', text });
    pre.hidden = true;
    const button = el('button', { type: 'button', class: 'show-transcript', text: 'Show the request transcript' });
    button.addEventListener('click', () => {
      pre.hidden = !pre.hidden;
      button.textContent = pre.hidden ? 'Show the request transcript' : 'Hide the request transcript';
    });
    return el('div', {}, button, pre);
  }

  // Failures first.
  const failures = report.workflows.filter(failedish);
  const failureList = $('failures');
  if (!failures.length) failureList.append(el('p', { text: 'No workflow failed.' }));
  for (const w of failures.slice(0, 200)) {
    failureList.append(el('div', { class: 'failure', 'data-workflow': w.workflowId },
      el('h3', {}, el('a', { href: '#workflow-' + w.workflowId, text: w.workflowName }), ' ',
        el('span', { class: 'status ' + w.status, text: w.status + (w.failureKind ? ' (' + w.failureKind + ')' : '') })),
      el('div', { class: 'error', text: w.error || '' }),
      stepTable(w), transcriptBlock(w)));
  }
  if (failures.length > 200) failureList.append(el('p', { text: (failures.length - 200) + ' more failures: see the workflow list.' }));

  // Flaky workflows with their attempts.
  const flaky = report.workflows.filter((w) => w.flaky);
  const flakyList = $('flaky');
  if (!flaky.length) flakyList.append(el('p', { text: 'No flaky workflow.' }));
  for (const w of flaky) {
    const ul = el('ul');
    for (const a of w.attempts) ul.append(el('li', { text: 'attempt ' + a.attempt + ': ' + (a.passed ? 'passed' : 'failed') + ' in ' + ms(a.duration) + (a.error ? ' — ' + a.error : '') }));
    flakyList.append(el('div', { class: 'failure' }, el('h3', {}, el('a', { href: '#workflow-' + w.workflowId, text: w.workflowName })), ul));
  }

  // Step statistics (report.json's stepStats, computed here: the page does not carry them),
  // the slowest first.
  const stepStats = [];
  for (const w of report.workflows) {
    const byName = new Map();
    for (const s of w.result.steps) {
      if (!byName.has(s.name)) byName.set(s.name, []);
      byName.get(s.name).push(s.duration);
    }
    for (const [step, all] of byName) {
      all.sort((a, b) => a - b);
      const rank = (p) => all[Math.max(1, Math.ceil((p * all.length) / 100)) - 1];
      stepStats.push({ workflowId: w.workflowId, step, count: all.length, p50: rank(50), p95: rank(95), max: all[all.length - 1] });
    }
  }
  const statRows = stepStats.sort((a, b) => b.max - a.max).slice(0, 100);
  const statTable = el('table', {}, el('tr', {}, el('th', { text: 'workflow' }), el('th', { text: 'step' }),
    el('th', { class: 'num', text: 'count' }), el('th', { class: 'num', text: 'p50' }), el('th', { class: 'num', text: 'p95' }), el('th', { class: 'num', text: 'max' })));
  for (const s of statRows) {
    statTable.append(el('tr', {}, el('td', {}, el('a', { href: '#workflow-' + s.workflowId, text: s.workflowId })), el('td', { text: s.step }),
      el('td', { class: 'num', text: String(s.count) }), el('td', { class: 'num', text: ms(s.p50) }),
      el('td', { class: 'num', text: ms(s.p95) }), el('td', { class: 'num', text: ms(s.max) })));
  }
  $('stats').append(statTable);

  // Every workflow, filtered; drawn a page at a time.
  const statusBox = $('filter-status');
  const tagBox = $('filter-tag');
  const textBox = $('filter-text');
  const tags = [...new Set(report.workflows.flatMap((w) => w.tags || []))].sort();
  for (const t of tags) tagBox.append(el('option', { value: t, text: t }));
  let shown = 0;
  let matching = [];
  const list = $('workflows');
  const more = el('button', { type: 'button', class: 'more', text: 'Show more' });
  more.addEventListener('click', () => page());
  function entry(w) {
    const details = el('details', { class: 'workflow', id: 'workflow-' + w.workflowId },
      el('summary', {}, el('span', { class: 'status ' + w.status, text: w.status }), ' ', w.workflowName, ' ',
        el('span', { class: 'meta', text: '(' + w.workflowId + ') ' + ms(w.duration) + ' · ' + w.result.totalSteps + ' steps' + (w.flaky ? ' · flaky' : '') }),
        ...(w.tags || []).map((t) => el('span', { class: 'tag', text: t }))),
      el('div', {}, w.error ? el('div', { class: 'error', text: w.error }) : null,
        (w.dependsOn || []).length ? el('p', { class: 'meta', text: 'depends on ' + w.dependsOn.join(', ') }) : null,
        stepTable(w), transcriptBlock(w)));
    return details;
  }
  function page() {
    const next = matching.slice(shown, shown + 200);
    for (const w of next) list.insertBefore(entry(w), more);
    shown += next.length;
    more.hidden = shown >= matching.length;
    $('count').textContent = matching.length + ' of ' + report.workflows.length + ' workflows';
  }
  function apply() {
    const status = statusBox.value;
    const tag = tagBox.value;
    const text = textBox.value.trim().toLowerCase();
    matching = report.workflows.filter((w) =>
      (!status || w.status === status || (status === 'flaky' && w.flaky)) &&
      (!tag || (w.tags || []).includes(tag)) &&
      (!text || (w.workflowName + ' ' + w.workflowId + ' ' + (w.error || '')).toLowerCase().includes(text)));
    list.textContent = '';
    list.append(more);
    shown = 0;
    page();
    const ids = new Set(matching.map((w) => w.workflowId));
    timeline.update(allLanes.filter((l) => ids.has(l.id)), report.totalDuration);
  }
  for (const box of [statusBox, tagBox]) box.addEventListener('change', apply);
  textBox.addEventListener('input', apply);
  apply();

  // A link to one workflow opens it, wherever it is in the list.
  function openHash() {
    const id = decodeURIComponent(location.hash.replace(/^#workflow-/, ''));
    if (!id || id === location.hash) return;
    let node = document.getElementById('workflow-' + id);
    if (!node) {
      const w = report.workflows.find((x) => x.workflowId === id);
      if (!w) return;
      node = entry(w);
      list.insertBefore(node, list.firstChild);
    }
    node.open = true;
    node.scrollIntoView({ block: 'start' });
  }
  window.addEventListener('hashchange', openHash);
  openHash();
  document.body.dataset.ready = 'true';
})();
