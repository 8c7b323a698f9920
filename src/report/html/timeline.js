// The run timeline: one lane per workflow on a shared time axis, drawn on one canvas that
// paints only the lanes in view, so a 10,000-workflow run stays one DOM node. Used by
// report.html and by serve mode's dashboard (live and finished runs).
//
//   const t = new WorkflowTimeline(container, { onSelect: (lane) => … });
//   t.update(lanes, spanMs);
//
// A lane: { id, name, status, wait: [from, to] | null, attempts: [[from, to, passed]],
//           segments: [{ from, to, status, name, error }] }; times in ms from the run start.
(function (global) {
  'use strict';
  const LANE = 18;
  const LABEL = 190;
  const AXIS = 22;
  const COLORS = {
    passed: '#2e9d4f', success: '#2e9d4f', completed: '#2e9d4f', failed: '#d33c3c', skipped: '#d9a21b',
    blocked: '#8a5a9e', cancelled: '#888888', running: '#3b7dd8', pending: '#bbbbbb',
    wait: '#e4e4e4', retry: '#f1c4c4',
  };

  function WorkflowTimeline(container, options) {
    this.options = options || {};
    this.lanes = [];
    this.span = 1;
    this.zoom = 1;
    this.root = document.createElement('div');
    this.root.className = 'wt-root';
    const bar = document.createElement('div');
    bar.className = 'wt-bar';
    for (const [label, action] of [['−', () => this.setZoom(this.zoom / 2)],
      ['+', () => this.setZoom(this.zoom * 2)], ['fit', () => this.setZoom(1)]]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.addEventListener('click', action);
      bar.appendChild(b);
    }
    this.scale = document.createElement('span');
    this.scale.className = 'wt-scale';
    bar.appendChild(this.scale);
    this.viewport = document.createElement('div');
    this.viewport.className = 'wt-viewport';
    this.spacer = document.createElement('div');
    this.spacer.className = 'wt-spacer';
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'wt-canvas';
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'timeline of the run: one lane per workflow');
    this.tip = document.createElement('div');
    this.tip.className = 'wt-tip';
    this.tip.hidden = true;
    this.viewport.appendChild(this.canvas);
    this.viewport.appendChild(this.spacer);
    this.root.appendChild(bar);
    this.root.appendChild(this.viewport);
    this.root.appendChild(this.tip);
    container.appendChild(this.root);
    this.viewport.addEventListener('scroll', () => this.draw());
    this.viewport.addEventListener('wheel', (e) => {
      if (!e.ctrlKey) return;
      e.preventDefault();
      this.setZoom(this.zoom * (e.deltaY < 0 ? 1.25 : 0.8));
    }, { passive: false });
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => { this.tip.hidden = true; });
    this.canvas.addEventListener('click', (e) => {
      const hit = this.at(e);
      if (hit && this.options.onSelect) this.options.onSelect(hit.lane);
    });
    if (global.ResizeObserver) new ResizeObserver(() => this.layout()).observe(this.viewport);
  }

  WorkflowTimeline.prototype.update = function (lanes, span) {
    this.lanes = lanes;
    this.span = Math.max(1, span || 1);
    this.canvas.dataset.lanes = String(lanes.length);
    this.layout();
  };

  WorkflowTimeline.prototype.setZoom = function (zoom) {
    this.zoom = Math.min(4096, Math.max(1, zoom));
    this.layout();
  };

  WorkflowTimeline.prototype.plotWidth = function () {
    return Math.max(50, (this.viewport.clientWidth - LABEL - 8) * this.zoom);
  };

  WorkflowTimeline.prototype.layout = function () {
    this.viewport.style.height = Math.min(420, AXIS + this.lanes.length * LANE + 20) + 'px';
    this.spacer.style.height = (AXIS + this.lanes.length * LANE) + 'px';
    this.spacer.style.width = (LABEL + this.plotWidth()) + 'px';
    this.draw();
  };

  WorkflowTimeline.prototype.x = function (ms) {
    return LABEL + (ms / this.span) * this.plotWidth() - this.viewport.scrollLeft;
  };

  WorkflowTimeline.prototype.draw = function () {
    const width = this.viewport.clientWidth;
    const height = Math.min(this.viewport.clientHeight, AXIS + this.lanes.length * LANE + 2);
    const ratio = global.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = width + 'px';
      this.canvas.style.height = height + 'px';
    }
    this.canvas.style.left = this.viewport.scrollLeft + 'px';
    this.canvas.style.top = this.viewport.scrollTop + 'px';
    const g = this.canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    g.font = '11px system-ui, sans-serif';
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / LANE));
    const count = Math.ceil((height - AXIS) / LANE) + 1;
    for (let i = first; i < Math.min(this.lanes.length, first + count); i++) {
      const lane = this.lanes[i];
      const y = AXIS + (i - first) * LANE - (this.viewport.scrollTop % LANE);
      if (i % 2) { g.fillStyle = '#f7f7f7'; g.fillRect(LABEL, y, width - LABEL, LANE); }
      const box = (from, to, color, inset) => {
        const x0 = Math.max(LABEL, this.x(from));
        const x1 = Math.min(width, this.x(to));
        if (x1 < LABEL || x0 > width) return;
        g.fillStyle = color;
        g.fillRect(x0, y + inset, Math.max(1, x1 - x0), LANE - 2 * inset);
      };
      if (lane.wait) box(lane.wait[0], lane.wait[1], COLORS.wait, 6);
      // Attempts that failed before a retry (the last attempt is drawn by its steps).
      const attempts = lane.attempts || [];
      for (let k = 0; k < attempts.length - 1; k++) if (!attempts[k][2]) box(attempts[k][0], attempts[k][1], COLORS.retry, 3);
      for (const s of lane.segments) box(s.from, s.to, COLORS[s.status] || COLORS.pending, 3);
      if (!lane.segments.length && !lane.wait) box(0, this.span * 0.002, COLORS[lane.status] || COLORS.pending, 3);
      g.fillStyle = '#fff';
      g.fillRect(0, y, LABEL, LANE);
      g.fillStyle = COLORS[lane.status] || '#333';
      g.fillRect(2, y + 5, 8, 8);
      g.fillStyle = '#222';
      g.fillText(clip(g, lane.name, LABEL - 18), 14, y + 13);
    }
    // The axis: about eight ticks, in round units.
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, AXIS);
    g.fillStyle = '#555';
    const step = niceStep(this.span / (8 * this.zoom));
    const from = Math.floor(((this.viewport.scrollLeft) / this.plotWidth()) * this.span / step) * step;
    for (let t = from; t <= this.span; t += step) {
      const x = this.x(t);
      if (x < LABEL) continue;
      if (x > width) break;
      g.fillRect(x, AXIS - 5, 1, 5);
      g.fillText(label(t), x + 2, 12);
    }
    this.scale.textContent = this.lanes.length + ' workflows · ' + label(this.span) +
      (this.zoom > 1 ? ' · zoom ×' + this.zoom.toFixed(this.zoom < 10 ? 1 : 0) : '') +
      ' · ctrl+wheel zooms';
  };

  WorkflowTimeline.prototype.at = function (e) {
    const rect = this.canvas.getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    if (py < AXIS) return null;
    const index = Math.floor((py - AXIS + this.viewport.scrollTop % LANE) / LANE) +
      Math.floor(this.viewport.scrollTop / LANE);
    const lane = this.lanes[index];
    if (!lane) return null;
    const t = ((px - LABEL + this.viewport.scrollLeft) / this.plotWidth()) * this.span;
    const slack = (3 / this.plotWidth()) * this.span;
    const segment = lane.segments.find((s) => t >= s.from - slack && t <= s.to + slack);
    const waiting = lane.wait && t >= lane.wait[0] && t <= lane.wait[1];
    return { lane, segment, waiting, px, py };
  };

  WorkflowTimeline.prototype.hover = function (e) {
    const hit = this.at(e);
    if (!hit) { this.tip.hidden = true; return; }
    const lines = [hit.lane.name + ' — ' + hit.lane.status];
    if (hit.segment) {
      lines.push(hit.segment.name + ': ' + hit.segment.status + ', ' + label(hit.segment.to - hit.segment.from));
      if (hit.segment.error) lines.push(hit.segment.error.slice(0, 300));
    } else if (hit.waiting) {
      lines.push('waiting ' + label(hit.lane.wait[1] - hit.lane.wait[0]) + ' (for a slot, a group or a dependency)');
    }
    this.tip.textContent = lines.join('\n');
    this.tip.style.left = Math.min(hit.px + 12, this.viewport.clientWidth - 260) + 'px';
    this.tip.style.top = (hit.py + 40) + 'px';
    this.tip.hidden = false;
  };

  function clip(g, text, width) {
    if (g.measureText(text).width <= width) return text;
    let cut = text;
    while (cut.length > 1 && g.measureText(cut + '…').width > width) cut = cut.slice(0, -1);
    return cut + '…';
  }

  function niceStep(raw) {
    const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000,
      60000, 120000, 300000, 600000, 1800000, 3600000];
    return steps.find((s) => s >= raw) || 3600000;
  }

  function label(ms) {
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }

  // The lanes of a report (report.json's schema): waiting, attempts and steps placed on the
  // run's time axis.
  WorkflowTimeline.lanesOf = function (report) {
    const t0 = report.startTime;
    return report.workflows.map((w) => {
      const start = w.startTime - t0;
      const end = w.endTime - t0;
      const attempts = w.attempts || [];
      const lane = { id: w.workflowId, name: w.workflowName, status: w.status, wait: null, attempts: [], segments: [] };
      if (start > 0) lane.wait = [0, start];
      if (w.status === 'blocked' || w.status === 'cancelled') {
        lane.wait = [0, Math.max(start, end)];
        return lane;
      }
      // Attempts run one after the other; the waits between them share what is left.
      const total = attempts.reduce((sum, a) => sum + a.duration, 0);
      const gap = attempts.length > 1 ? Math.max(0, (end - start - total) / (attempts.length - 1)) : 0;
      let at = start;
      for (const a of attempts) {
        lane.attempts.push([at, at + a.duration, a.passed]);
        at += a.duration + gap;
      }
      const last = attempts.length ? lane.attempts[lane.attempts.length - 1][0] : start;
      for (const s of w.result.steps) {
        const from = last + (s.startOffset || 0);
        lane.segments.push({ from, to: from + s.duration, status: s.status, name: s.name, error: s.error || '' });
      }
      return lane;
    });
  };

  global.WorkflowTimeline = WorkflowTimeline;
})(window);
