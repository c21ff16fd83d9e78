// Switchyard operations dashboard: plain JavaScript over the public /api/v1 API, nothing
// fetched from anywhere else. The page is served with a CSP that forbids inline script and
// style, so every node is built with the DOM API (never innerHTML) and styles are set through
// CSSOM properties.
'use strict';

(() => {
  const API = '/api/v1';
  const TERMINAL = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);
  // Milliseconds between refreshes of each panel: enough to look live, well under the
  // per-user rate limit (100 requests a minute by default) with a stream or two open.
  const EVERY = { status: 5000, queues: 10000, stats: 15000, tasks: 4000 };
  const MAX_BACKOFF = 60000;
  // Browsers open at most six HTTP/1.1 connections per host and each progress stream holds
  // one for as long as its task runs: beyond this many, the list's polling updates the rest.
  const MAX_STREAMS = 3;
  const PAGE_SIZE = 15;
  const PING = { steps: 5, sleep_ms: 400 };
  const STORE = { access: 'switchyard.access', refresh: 'switchyard.refresh', email: 'switchyard.email' };

  const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    append(node, children);
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function notice(testid, text, bad = false) {
    const node = $(testid);
    node.textContent = text;
    node.classList.toggle('bad', bad);
    node.hidden = !text;
    return node;
  }

  const pad = (n) => String(n).padStart(2, '0');

  function clock(iso) {
    if (!iso) return '—';
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    const today = new Date().toDateString() === date.toDateString();
    return today ? time : `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time}`;
  }

  const json = (value) => (value === null || value === undefined ? '—' : JSON.stringify(value, null, 2));

  // ---------------------------------------------------------------- session and API

  const store = {
    get access() { return sessionStorage.getItem(STORE.access); },
    get refresh() { return sessionStorage.getItem(STORE.refresh); },
    get email() { return sessionStorage.getItem(STORE.email) || ''; },
    saveTokens(tokens) {
      sessionStorage.setItem(STORE.access, tokens.access);
      sessionStorage.setItem(STORE.refresh, tokens.refresh);
    },
    saveEmail(email) { sessionStorage.setItem(STORE.email, email); },
    clear() { for (const key of Object.values(STORE)) sessionStorage.removeItem(key); },
  };

  /** The session is over (logged out, refresh refused): the caller just stops. */
  class SessionEnded extends Error {}
  /** The server could not be reached. */
  class NetworkError extends Error {}
  /** An answer the panel cannot use. */
  class HttpError extends Error {
    constructor(what, response) {
      super(`${what}: ${errorText(response)}`);
      this.status = response.status;
    }
  }

  function errorText(response) {
    const body = response.data;
    const text = body && (body.error || body.message);
    return text ? `${text} (HTTP ${response.status})` : `HTTP ${response.status}`;
  }

  async function send(url, init) {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new NetworkError(`cannot reach the API: ${error.message}`);
    }
  }

  let refreshing = null;

  // One refresh at a time: a refresh token works once, and presenting it twice revokes the
  // whole session.
  function refreshTokens() {
    if (!refreshing) {
      refreshing = (async () => {
        const refresh = store.refresh;
        if (!refresh) return false;
        const response = await send(`${API}/auth/refresh/`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ refresh }),
        });
        if (!response.ok) return false;
        const body = await response.json();
        store.saveTokens(body.data.tokens);
        return true;
      })().finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  /** `fetch` with the access token; one refresh and retry on 401. */
  async function authorizedFetch(url, init = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const token = store.access;
      if (!token) throw new SessionEnded();
      const headers = new Headers(init.headers || {});
      headers.set('Authorization', `Bearer ${token}`);
      const response = await send(url, { ...init, headers });
      if (response.status !== 401) return response;
      // Another request may have refreshed the tokens meanwhile: then just try again.
      const renewed = store.access !== token || (attempt === 0 && (await refreshTokens()));
      if (!renewed || attempt > 0) {
        endSession('Your session has ended; please sign in again.');
        throw new SessionEnded();
      }
    }
  }

  /** A JSON call under /api/v1: `{status, ok, data}`. */
  async function api(path, { method = 'GET', body } = {}) {
    const init = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const response = await authorizedFetch(`${API}${path}`, init);
    // Signed out while this was on its way: the answer belongs to nobody now.
    if (!store.access) throw new SessionEnded();
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    return { status: response.status, ok: response.ok, data };
  }

  // ---------------------------------------------------------------- refresh loops

  // The panels whose last refresh failed, and why.
  const failing = new Map();

  function showConnection() {
    const node = $('connection-error');
    const [first] = failing.entries();
    node.hidden = !first;
    node.textContent = first ? `${first[0]}: ${first[1]} — retrying` : '';
  }

  /** Runs `run` now and then every `every` ms (longer after failures), never twice at once,
   * and not while the tab is hidden. */
  class Poller {
    constructor(name, run, every) {
      Object.assign(this, { name, run, every, timer: null, active: false, busy: false, again: false, failures: 0 });
    }

    start() {
      this.active = true;
      this.tick();
    }

    stop() {
      this.active = false;
      clearTimeout(this.timer);
    }

    kick() {
      if (!this.active) return;
      clearTimeout(this.timer);
      this.tick();
    }

    async tick() {
      if (!this.active) return;
      if (this.busy) {
        this.again = true;
        return;
      }
      this.busy = true;
      try {
        if (!document.hidden) await this.run();
        this.failures = 0;
        failing.delete(this.name);
      } catch (error) {
        if (error instanceof SessionEnded) return;
        this.failures += 1;
        failing.set(this.name, error.message);
        // Expected trouble (network, an error answer) is a warning; anything else is a bug.
        if (error instanceof NetworkError || error instanceof HttpError) console.warn(this.name, error.message);
        else console.error(this.name, error);
      } finally {
        this.busy = false;
        showConnection();
      }
      if (!this.active) return;
      if (this.again) {
        this.again = false;
        this.tick();
        return;
      }
      const delay = Math.min(this.every * 2 ** this.failures, MAX_BACKOFF);
      this.timer = setTimeout(() => this.tick(), delay);
    }
  }

  // ---------------------------------------------------------------- workers

  async function loadStatus() {
    const response = await send(`${API}/system/status/`, { headers: { Accept: 'application/json' } });
    // 503 still describes what is down.
    const body = await response.json().catch(() => {
      throw new HttpError('status', { status: response.status, data: null });
    });
    const up = (value) => value === 'connected';
    $('health').replaceChildren(
      el('span', { 'data-testid': 'health-database' }, el('span', { class: `dot ${up(body.database) ? 'up' : ''}` }), `database ${body.database}`),
      el('span', { 'data-testid': 'health-broker' }, el('span', { class: `dot ${up(body.broker) ? 'up' : ''}` }), `broker ${body.broker}`),
      el('span', { class: 'muted', text: `version ${body.version}` }),
    );
    const rows = Object.entries(body.workers || {}).map(([queue, count]) => workerRow(queue, count));
    rows.push(workerRow('scheduler', body.schedulers || 0));
    $('workers-table').replaceChildren(...rows);
  }

  function workerRow(name, count) {
    return el('tr', { 'data-testid': 'worker-row', 'data-queue': name },
      el('td', {}, el('span', { class: `dot ${count > 0 ? 'up' : ''}` }), name),
      el('td', { class: 'num', 'data-testid': 'worker-count', text: count }));
  }

  // ---------------------------------------------------------------- queues and dead letters

  const letters = { queue: '', selected: new Set() };
  // Operators may open any account's task (a dead letter's) through the admin API.
  let isOperator = false;

  function setOperator(operator) {
    isOperator = operator;
    $('operator-note').hidden = operator;
    $('queues-table-wrap').hidden = !operator;
    $('dead-letters-panel').hidden = !operator;
  }

  async function loadQueues() {
    const response = await api('/system/admin/dead-letters/');
    if (response.status === 403) {
      setOperator(false);
      return;
    }
    if (!response.ok) throw new HttpError('queues', response);
    setOperator(true);
    const queues = response.data.data;
    const dash = (value) => (value === null || value === undefined ? '–' : value);
    $('queues-table').replaceChildren(...queues.map((row) => el('tr', { 'data-testid': 'queue-row', 'data-queue': row.queue },
      el('td', { text: row.queue }),
      el('td', { class: 'num', 'data-testid': 'queue-ready', text: dash(row.ready) }),
      el('td', { class: 'num', text: dash(row.consumers) }),
      el('td', { class: 'num' }, row.dead_letters > 0
        ? el('button', { type: 'button', text: row.dead_letters, onclick: () => chooseQueue(row.queue) })
        : '0'))));
    const select = $('dead-letters-queue');
    if (!letters.queue) letters.queue = (queues.find((row) => row.dead_letters > 0) || queues[0] || {}).queue || '';
    select.replaceChildren(...queues.map((row) => el('option', {
      value: row.queue, text: `${row.queue} (${row.dead_letters})`, selected: row.queue === letters.queue,
    })));
    await loadLetters();
  }

  function chooseQueue(queue) {
    letters.queue = queue;
    letters.selected.clear();
    $('dead-letters-queue').value = queue;
    notice('requeue-result', '');
    loadLetters().catch((error) => console.warn('dead letters', error.message));
    $('dead-letters-panel').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  }

  async function loadLetters() {
    const queue = letters.queue;
    if (!queue) return;
    const response = await api(`/system/admin/dead-letters/${encodeURIComponent(queue)}/?page_size=50`);
    if (!response.ok) throw new HttpError('dead letters', response);
    if (queue !== letters.queue) return;
    const rows = response.data.results;
    const present = new Set(rows.map((row) => row.id));
    for (const id of [...letters.selected]) if (!present.has(id)) letters.selected.delete(id);
    $('dead-letters-table').replaceChildren(...(rows.length ? rows.map(letterRow) : [
      el('tr', {}, el('td', { colspan: 8, class: 'note', text: `No dead letters on ${queue}.` })),
    ]));
  }

  function letterRow(letter) {
    const box = el('input', {
      type: 'checkbox', 'aria-label': `Select dead letter ${letter.id}`, checked: letters.selected.has(letter.id),
      onchange: (event) => (event.target.checked ? letters.selected.add(letter.id) : letters.selected.delete(letter.id)),
    });
    return el('tr', { 'data-testid': 'dead-letter-row', 'data-letter-id': letter.id },
      el('td', {}, box),
      el('td', { class: 'num', text: letter.id }),
      el('td', {}, letter.task_id
        ? el('a', { href: `#task/${letter.task_id}`, title: letter.task_id }, el('code', { text: letter.task_id.slice(0, 8) }))
        : '—'),
      el('td', { text: letter.kind }),
      el('td', { class: 'num', text: letter.account_id ?? '—' }),
      el('td', { class: 'num', text: letter.attempts ?? '—' }),
      el('td', { class: 'error-cell', title: letter.error_message, text: `${letter.error_code}: ${letter.error_message}` }),
      el('td', { text: clock(letter.dead_at) }));
  }

  async function requeue(body) {
    const queue = letters.queue;
    const response = await api(`/system/admin/dead-letters/${encodeURIComponent(queue)}/requeue/`, { method: 'POST', body });
    if (!response.ok) {
      notice('requeue-result', `Requeue failed: ${errorText(response)}`, true);
      return;
    }
    const { requeued, letters: outcomes } = response.data.data;
    const stale = outcomes.filter((entry) => entry.result.outcome === 'stale').length;
    notice('requeue-result', `Requeued ${requeued} of ${outcomes.length}${stale ? ` (${stale} stale, dropped)` : ''}.`);
    letters.selected.clear();
    pollers.queues.kick();
    pollers.tasks.kick();
  }

  // ---------------------------------------------------------------- throughput charts

  let lastStats = null;

  async function loadStats() {
    const response = await api('/tasks/stats/?minutes=60');
    if (!response.ok) {
      // The endpoint is newer than some servers: say so instead of failing.
      notice('stats-unavailable', `Throughput statistics are unavailable here (${errorText(response)}).`);
      $('stats-body').hidden = true;
      lastStats = null;
      return;
    }
    notice('stats-unavailable', '');
    $('stats-body').hidden = false;
    lastStats = response.data.data;
    drawStats(lastStats);
  }

  function drawStats(stats) {
    const totals = stats.totals || {};
    const finished = (totals.succeeded || 0) + (totals.failed || 0);
    const rate = finished ? `${((100 * totals.failed) / finished).toFixed(1)}%` : '—';
    const fact = (label, value, testid) => [`${label} `, el('b', { 'data-testid': testid, text: value })];
    $('stats-totals').replaceChildren(
      ...fact('Succeeded', totals.succeeded ?? 0, 'total-succeeded'), ' · ',
      ...fact('Failed', totals.failed ?? 0, 'total-failed'), ' · ',
      ...fact('Failure rate', rate, 'failure-rate'), ' · ',
      ...fact('Retried', totals.retried ?? 0, 'total-retried'), ' · ',
      ...fact('Running now', totals.running ?? 0, 'total-running'), ' · ',
      ...fact('Pending', totals.pending ?? 0, 'total-pending'),
    );
    const series = bucketSeries(stats);
    drawThroughput($('throughput-chart'), series);
    drawFailureRate($('failure-chart'), series);
  }

  /** Every bucket of the hour, in order, zeros where the server sent none. */
  function bucketSeries(stats) {
    const step = Math.max(1, stats.bucket_seconds || 60) * 1000;
    const since = Date.parse(stats.since);
    const buckets = stats.buckets || [];
    const count = Math.max(Math.ceil((60 * 60 * 1000) / step), buckets.length, 1);
    const series = Array.from({ length: count }, (_, index) => ({
      at: new Date(since + index * step), succeeded: 0, failed: 0, retried: 0,
    }));
    for (const bucket of buckets) {
      const index = Math.min(count - 1, Math.max(0, Math.round((Date.parse(bucket.at) - since) / step)));
      series[index].succeeded += bucket.succeeded || 0;
      series[index].failed += bucket.failed || 0;
      series[index].retried += bucket.retried || 0;
    }
    return series;
  }

  /** The smallest 1, 2 or 5 × 10ⁿ at or above `value`. */
  function niceMax(value) {
    const power = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
    return [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= value);
  }

  const hhmm = (date) => `${pad(date.getHours())}:${pad(date.getMinutes())}`;

  /** The frame of a chart sized to its box (so text is never stretched): axes, y labels, the
   * first, middle and last bucket's time. */
  function chartFrame(node, series, labels) {
    const width = Math.max(node.clientWidth || 0, 240);
    const height = 150;
    const box = { left: 38, right: 8, top: 8, bottom: 18 };
    const plot = { x: box.left, y: box.top, w: width - box.left - box.right, h: height - box.top - box.bottom };
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
    for (const [fraction, text] of labels) {
      const y = plot.y + plot.h * (1 - fraction);
      root.append(svg('line', { class: 'axis', x1: plot.x, x2: plot.x + plot.w, y1: y, y2: y }));
      root.append(svg('text', { x: plot.x - 4, y: y + 3, 'text-anchor': 'end' }, text));
    }
    const slot = plot.w / series.length;
    for (const index of [0, Math.floor(series.length / 2), series.length - 1]) {
      const anchor = index === 0 ? 'start' : index === series.length - 1 ? 'end' : 'middle';
      const x = index === series.length - 1 ? plot.x + plot.w : plot.x + slot * index + (index ? slot / 2 : 0);
      root.append(svg('text', { x, y: height - 4, 'text-anchor': anchor }, hhmm(series[index].at)));
    }
    return { root, plot, slot };
  }

  function drawThroughput(node, series) {
    const top = niceMax(Math.max(1, ...series.map((bucket) => bucket.succeeded + bucket.failed)));
    // Counts are whole: no half-way line when the top is odd.
    const labels = Number.isInteger(top / 2) ? [[0, '0'], [0.5, top / 2], [1, top]] : [[0, '0'], [1, top]];
    const { root, plot, slot } = chartFrame(node, series, labels);
    root.setAttribute('aria-label', 'Tasks finished per minute over the last hour');
    const barWidth = Math.max(1, slot * 0.75);
    series.forEach((bucket, index) => {
      const x = plot.x + slot * index + (slot - barWidth) / 2;
      const okHeight = (plot.h * bucket.succeeded) / top;
      const badHeight = (plot.h * bucket.failed) / top;
      const bottom = plot.y + plot.h;
      root.append(svg('g', {},
        svg('title', {}, `${hhmm(bucket.at)}: ${bucket.succeeded} succeeded, ${bucket.failed} failed, ${bucket.retried} retried`),
        svg('rect', { class: 'ok', x, y: bottom - okHeight, width: barWidth, height: okHeight }),
        svg('rect', { class: 'bad', x, y: bottom - okHeight - badHeight, width: barWidth, height: badHeight }),
        // An invisible full-height target, so that quiet minutes have a tooltip too.
        svg('rect', { x: plot.x + slot * index, y: plot.y, width: slot, height: plot.h, fill: 'transparent' })));
    });
    node.replaceChildren(root);
  }

  function drawFailureRate(node, series) {
    const { root, plot, slot } = chartFrame(node, series, [[0, '0%'], [0.5, '50%'], [1, '100%']]);
    root.setAttribute('aria-label', 'Share of finished tasks that failed, per minute, over the last hour');
    const points = series.flatMap((bucket, index) => {
      const finished = bucket.succeeded + bucket.failed;
      if (!finished) return [];
      const rate = bucket.failed / finished;
      return [{ x: plot.x + slot * index + slot / 2, y: plot.y + plot.h * (1 - rate), rate, bucket }];
    });
    if (!points.length) {
      root.append(svg('text', { x: plot.x + plot.w / 2, y: plot.y + plot.h / 2, 'text-anchor': 'middle' }, 'no finished tasks'));
    } else {
      root.append(svg('polyline', { class: 'line', points: points.map((p) => `${p.x},${p.y}`).join(' ') }));
      for (const point of points) {
        root.append(svg('circle', { class: 'point', cx: point.x, cy: point.y, r: 2.5 },
          svg('title', {}, `${hhmm(point.bucket.at)}: ${(100 * point.rate).toFixed(0)}% failed`)));
      }
    }
    node.replaceChildren(root);
  }

  // ---------------------------------------------------------------- tasks and live progress

  const tasks = { page: 1, state: '', kind: '', rows: new Map(), shown: [] };
  // What the streams said last, per task, and when (performance.now()): newer than a list
  // read that started before it, it wins over that read.
  const live = new Map();
  const streams = new Map();

  function progressBar(testid) {
    const fill = el('span');
    const bar = el('div', {
      class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0,
      'aria-label': 'Progress', 'data-testid': testid,
    }, fill);
    const percent = el('span', { class: 'pct', text: '0%' });
    return { node: el('div', { class: 'progress' }, bar, percent), bar, fill, percent };
  }

  function setProgress(progress, percentage, state) {
    const value = Math.max(0, Math.min(100, Number(percentage) || 0));
    progress.bar.setAttribute('aria-valuenow', value);
    progress.bar.className = `bar ${state}`;
    progress.fill.style.width = `${value}%`;
    progress.percent.textContent = `${value}%`;
  }

  function stateBadge(state, testid) {
    return el('span', { class: `state ${state}`, 'data-testid': testid, text: state });
  }

  function taskRow(id) {
    let row = tasks.rows.get(id);
    if (row) return row;
    const progress = progressBar('task-progress');
    const cells = {
      kind: el('td'), state: el('td'), message: el('td', { class: 'message' }),
      attempts: el('td', { class: 'num' }), created: el('td'),
    };
    const tr = el('tr', { class: 'clickable', 'data-testid': 'task-row', 'data-task-id': id, onclick: () => openTask(id) },
      el('td', { title: id }, el('a', { href: `#task/${id}` }, el('code', { text: id.slice(0, 8) }))), cells.kind, cells.state,
      el('td', {}, progress.node), cells.message, cells.attempts, cells.created);
    row = { tr, progress, cells };
    tasks.rows.set(id, row);
    return row;
  }

  function renderTask(row, task) {
    row.cells.kind.textContent = task.kind;
    row.cells.state.replaceChildren(stateBadge(task.state, 'task-state'));
    setProgress(row.progress, task.percentage, task.state);
    const text = [task.phase, task.message].filter(Boolean).join(' · ');
    row.cells.message.textContent = text;
    row.cells.message.title = text;
    row.cells.attempts.textContent = `${task.attempts}/${task.max_attempts}`;
    row.cells.created.textContent = clock(task.created_at);
    row.tr.classList.toggle('selected', task.task_id === detail.id);
  }

  /** The list's task with what a stream said since the list was read. */
  function current(task, readAt) {
    const update = live.get(task.task_id);
    return update && update.at > readAt ? { ...task, ...update.fields } : task;
  }

  async function loadTasks() {
    const readAt = performance.now();
    const query = new URLSearchParams({ page: tasks.page, page_size: PAGE_SIZE });
    if (tasks.state) query.set('state', tasks.state);
    if (tasks.kind) query.set('kind', tasks.kind);
    const response = await api(`/tasks/?${query}`);
    if (!response.ok) throw new HttpError('tasks', response);
    const { count, next, previous, results } = response.data;
    if (!results.length && tasks.page > 1) {
      tasks.page = 1;
      return loadTasks();
    }
    tasks.shown = results.map((task) => current(task, readAt));
    const ids = new Set(tasks.shown.map((task) => task.task_id));
    for (const id of [...tasks.rows.keys()]) if (!ids.has(id)) tasks.rows.delete(id);
    const rows = tasks.shown.map((task) => {
      const row = taskRow(task.task_id);
      renderTask(row, task);
      return row.tr;
    });
    $('tasks-table').replaceChildren(...(rows.length ? rows : [
      el('tr', {}, el('td', { colspan: 7, class: 'note', text: 'No tasks yet. “Start ping” runs a diagnostic one.' })),
    ]));
    const first = count ? (tasks.page - 1) * PAGE_SIZE + 1 : 0;
    $('tasks-count').textContent = `${first}–${first + results.length - (count ? 1 : 0)} of ${count}`;
    $('tasks-previous').disabled = !previous;
    $('tasks-next').disabled = !next;
    follow();
  }

  /** Keeps a progress stream open for the task in the detail panel and the newest running
   * tasks on the page, up to MAX_STREAMS; closes the others. */
  function follow() {
    const running = (task) => task && !TERMINAL.has(task.state);
    const wanted = [];
    if (detail.id && running(detail.task)) wanted.push(detail.id);
    for (const task of tasks.shown) if (running(task) && !wanted.includes(task.task_id)) wanted.push(task.task_id);
    const keep = new Set(wanted.slice(0, MAX_STREAMS));
    for (const [id, controller] of streams) {
      if (!keep.has(id)) {
        controller.abort();
        streams.delete(id);
      }
    }
    for (const id of keep) if (!streams.has(id)) openStream(id);
  }

  async function openStream(id) {
    const controller = new AbortController();
    streams.set(id, controller);
    try {
      const response = await authorizedFetch(`${API}/tasks/${id}/events`, {
        headers: { Accept: 'text/event-stream' }, signal: controller.signal,
      });
      if (!response.ok || !response.body) return;
      for await (const event of serverSentEvents(response.body)) {
        if (event.event === 'error') break;
        let data;
        try { data = JSON.parse(event.data); } catch { continue; }
        onProgress(id, data);
        if (TERMINAL.has(data.state)) break;
      }
    } catch (error) {
      // Aborted on purpose, or the connection dropped: the next list refresh reopens it.
      if (error.name !== 'AbortError' && !(error instanceof SessionEnded)) console.warn('progress stream', id, error.message);
    } finally {
      if (streams.get(id) === controller) streams.delete(id);
      controller.abort();
    }
  }

  /** Parses a `text/event-stream` body (fields `event` and `data`; comments skipped). */
  async function* serverSentEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { event: 'message', data: [] };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        const lines = buffer.split(/\r?\n/);
        buffer = lines.pop();
        for (const line of lines) {
          if (line === '') {
            if (event.data.length) yield { event: event.event, data: event.data.join('\n') };
            event = { event: 'message', data: [] };
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            let text = colon < 0 ? '' : line.slice(colon + 1);
            if (text.startsWith(' ')) text = text.slice(1);
            if (field === 'event') event.event = text;
            else if (field === 'data') event.data.push(text);
          }
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  function onProgress(id, data) {
    const meta = data.meta || {};
    const fields = { state: data.state, percentage: meta.percentage, phase: meta.phase, message: meta.message };
    if (meta.attempts !== undefined) fields.attempts = meta.attempts;
    const previous = live.get(id);
    live.set(id, { at: performance.now(), fields });
    const task = tasks.shown.find((shown) => shown.task_id === id);
    if (task) {
      Object.assign(task, fields);
      renderTask(taskRow(id), task);
    }
    if (id === detail.id && detail.task) {
      const stateChanged = detail.task.state !== data.state;
      Object.assign(detail.task, fields);
      renderDetailProgress();
      // A new state brings a result, an error or an attempt: read the whole task again.
      if (stateChanged || (previous && previous.fields.attempts !== fields.attempts)) loadDetail().catch(reportDetail);
    }
    if (TERMINAL.has(data.state)) {
      pollers.tasks.kick();
      pollers.stats.kick();
    }
  }

  async function startPing() {
    const button = $('start-ping');
    button.disabled = true;
    try {
      const response = await api('/system/ping/', { method: 'POST', body: PING });
      if (response.status !== 202) {
        notice('ping-result', `Could not start a ping: ${errorText(response)}`, true);
        return;
      }
      const id = response.data.task_id;
      const node = notice('ping-result', `Ping started: task ${id}`);
      node.dataset.taskId = id;
      if (tasks.page !== 1 || tasks.state || tasks.kind) {
        tasks.page = 1;
        tasks.state = '';
        tasks.kind = '';
        $('task-filters').reset();
      }
      pollers.tasks.kick();
    } catch (error) {
      if (!(error instanceof SessionEnded)) notice('ping-result', `Could not start a ping: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- task detail

  // `base` is where the open task is read: the account's own API, or the admin API for an
  // operator looking at another account's task (read-only then).
  const detail = { id: null, task: null, progress: null, base: null };

  function openTask(id) {
    location.hash = `task/${id}`;
  }

  function closeTask() {
    history.replaceState(null, '', location.pathname + location.search);
    route();
  }

  function route() {
    const match = location.hash.match(/^#task\/([0-9a-f-]{36})$/i);
    const id = match ? match[1].toLowerCase() : null;
    if (id === detail.id) return;
    detail.id = id;
    detail.task = null;
    $('task-detail').hidden = !id;
    for (const [rowId, row] of tasks.rows) row.tr.classList.toggle('selected', rowId === id);
    if (!id) {
      follow();
      return;
    }
    $('detail-id').textContent = id;
    for (const testid of ['detail-facts', 'detail-payload', 'detail-result', 'detail-error', 'attempts-table']) $(testid).replaceChildren();
    notice('detail-error-note', '');
    loadDetail().then(() => $('task-detail').scrollIntoView({ behavior: 'smooth', block: 'nearest' })).catch(reportDetail);
  }

  function reportDetail(error) {
    if (error instanceof SessionEnded) return;
    notice('detail-error-note', `Could not load the task: ${error.message}`, true);
  }

  async function loadDetail() {
    const id = detail.id;
    if (!id) return;
    const readAt = performance.now();
    let base = `/tasks/${id}`;
    let response = await api(`${base}/`);
    if (response.status === 404 && isOperator) {
      base = `/system/admin/tasks/${id}`;
      response = await api(`${base}/`);
    }
    if (id !== detail.id) return;
    detail.base = base;
    if (response.status === 404) {
      detail.task = null;
      notice('detail-error-note', 'No such task in your account.', true);
      $('detail-cancel').hidden = true;
      return;
    }
    if (!response.ok) throw new HttpError('task', response);
    notice('detail-error-note', '');
    const task = response.data.data;
    const update = live.get(id);
    if (update && update.at > readAt) Object.assign(task, update.fields);
    detail.task = task;
    renderDetail(task);
    follow();
    await loadAttempts(id, base);
  }

  function renderDetail(task) {
    detail.progress = progressBar('detail-progress');
    const fact = (label, ...value) => el('div', {}, el('dt', { text: label }), el('dd', {}, ...value));
    detail.stateCell = el('dd');
    detail.messageCell = el('dd');
    const facts = [
      fact('Kind', task.kind),
      fact('Queue', task.queue),
      el('div', {}, el('dt', { text: 'State' }), detail.stateCell),
      fact('Progress', detail.progress.node),
      el('div', {}, el('dt', { text: 'Phase' }), detail.messageCell),
      fact('Attempts', `${task.attempts} of ${task.max_attempts}`),
      fact('Created', clock(task.created_at)),
      fact('Started', clock(task.started_at)),
      fact('Finished', clock(task.finished_at)),
      task.parent_id ? fact('Parent', el('a', { href: `#task/${task.parent_id}` }, el('code', { text: task.parent_id.slice(0, 8) }))) : null,
      task.cancel_requested ? fact('Cancel', 'requested') : null,
    ];
    $('detail-facts').replaceChildren(...facts.filter(Boolean));
    renderDetailProgress();
    $('detail-payload').textContent = json(task.payload);
    $('detail-result').textContent = json(task.result);
    $('detail-error').textContent = json(task.error);
  }

  function renderDetailProgress() {
    const task = detail.task;
    if (!task || !detail.progress) return;
    setProgress(detail.progress, task.percentage, task.state);
    detail.stateCell.replaceChildren(stateBadge(task.state, 'detail-state'));
    detail.messageCell.textContent = [task.phase, task.message].filter(Boolean).join(' · ') || '—';
    $('detail-cancel').hidden = TERMINAL.has(task.state) || detail.base !== `/tasks/${task.task_id}`;
  }

  async function loadAttempts(id, base) {
    const response = await api(`${base}/attempts/`);
    if (id !== detail.id) return;
    if (!response.ok) {
      notice('attempts-unavailable', `Attempt history is unavailable here (${errorText(response)}).`);
      $('attempts-table').replaceChildren();
      return;
    }
    notice('attempts-unavailable', '');
    $('attempts-table').replaceChildren(...response.data.data.map((attempt) => el('tr', { 'data-testid': 'attempt-row' },
      el('td', { class: 'num', text: attempt.attempt }),
      el('td', { title: attempt.worker_id || '' }, attempt.worker_id ? el('code', { text: attempt.worker_id.slice(0, 8) }) : '—'),
      el('td', { text: clock(attempt.started_at) }),
      el('td', { text: clock(attempt.finished_at) }),
      el('td', {}, el('span', { class: `state ${outcomeClass(attempt.outcome)}`, 'data-testid': 'attempt-outcome', text: attempt.outcome })),
      el('td', { class: 'error-cell', title: attempt.error || '', text: attempt.error || '' }))));
  }

  function outcomeClass(outcome) {
    return { succeeded: 'SUCCESS', failed: 'FAILURE', retry: 'RETRY', cancelled: 'REVOKED', running: 'PROGRESS' }[outcome] || '';
  }

  async function cancelTask() {
    const id = detail.id;
    const response = await api(`/tasks/${id}/cancel/`, { method: 'POST' });
    notice('detail-error-note', response.ok ? '' : `Cancel refused: ${errorText(response)}`, !response.ok);
    await loadDetail();
    pollers.tasks.kick();
  }

  // ---------------------------------------------------------------- sign-in and lifecycle

  const pollers = {
    status: new Poller('workers', loadStatus, EVERY.status),
    queues: new Poller('queues', loadQueues, EVERY.queues),
    stats: new Poller('statistics', loadStats, EVERY.stats),
    tasks: new Poller('tasks', loadTasks, EVERY.tasks),
  };

  function showLogin(message) {
    $('dashboard').hidden = true;
    $('session').hidden = true;
    $('login-view').hidden = false;
    notice('login-error', message || '', true);
    $('login-email').focus();
  }

  function start() {
    $('login-view').hidden = true;
    $('dashboard').hidden = false;
    $('session').hidden = false;
    $('user-email').textContent = store.email;
    for (const poller of Object.values(pollers)) poller.start();
    route();
  }

  function endSession(message) {
    for (const poller of Object.values(pollers)) poller.stop();
    for (const controller of streams.values()) controller.abort();
    streams.clear();
    live.clear();
    tasks.rows.clear();
    tasks.shown = [];
    failing.clear();
    showConnection();
    detail.id = null;
    detail.task = null;
    for (const testid of ['tasks-table', 'queues-table', 'dead-letters-table', 'workers-table', 'attempts-table']) $(testid).replaceChildren();
    notice('ping-result', '');
    notice('requeue-result', '');
    $('task-detail').hidden = true;
    store.clear();
    showLogin(message);
  }

  async function signIn(event) {
    event.preventDefault();
    const form = event.target;
    const email = form.email.value.trim();
    const password = form.password.value;
    if (!email || !password) {
      notice('login-error', 'Enter your email and password.', true);
      return;
    }
    $('login-submit').disabled = true;
    try {
      const response = await send(`${API}/auth/login/`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        notice('login-error', (body && body.error) || `Sign-in failed (HTTP ${response.status}).`, true);
        return;
      }
      store.saveTokens(body.data.tokens);
      store.saveEmail(body.data.user.email);
      form.reset();
      notice('login-error', '');
      start();
    } catch (error) {
      notice('login-error', `Sign-in failed: ${error.message}`, true);
    } finally {
      $('login-submit').disabled = false;
    }
  }

  async function signOut() {
    try {
      await api('/auth/logout/', { method: 'POST' });
    } catch {
      // Signing out here still forgets the tokens.
    }
    endSession();
  }

  function bind() {
    $('login-form').addEventListener('submit', signIn);
    $('logout').addEventListener('click', signOut);
    $('start-ping').addEventListener('click', startPing);
    $('task-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      const form = event.target;
      tasks.state = form.state.value;
      tasks.kind = form.kind.value.trim();
      tasks.page = 1;
      pollers.tasks.kick();
    });
    $('tasks-previous').addEventListener('click', () => { tasks.page = Math.max(1, tasks.page - 1); pollers.tasks.kick(); });
    $('tasks-next').addEventListener('click', () => { tasks.page += 1; pollers.tasks.kick(); });
    $('detail-close').addEventListener('click', closeTask);
    $('detail-cancel').addEventListener('click', () => cancelTask().catch(reportDetail));
    $('dead-letters-queue').addEventListener('change', (event) => chooseQueue(event.target.value));
    $('requeue-selected').addEventListener('click', () => {
      if (!letters.selected.size) {
        notice('requeue-result', 'Select dead letters first.', true);
        return;
      }
      requeue({ ids: [...letters.selected] }).catch((error) => notice('requeue-result', error.message, true));
    });
    $('requeue-all').addEventListener('click', () => {
      if (!letters.queue || !window.confirm(`Requeue every dead letter of ${letters.queue}?`)) return;
      requeue({ all: true }).catch((error) => notice('requeue-result', error.message, true));
    });
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) for (const poller of Object.values(pollers)) poller.kick();
    });
    let resizing = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => lastStats && drawStats(lastStats), 150);
    });
  }

  bind();
  if (store.access) start();
  else showLogin();
})();
