// lab.js: the lab page. The controls in force (/api/lab/controls), the catalogue's expected
// matrix (/api/lab/matrix), a Run button per attack for administrators (POST /api/lab/run,
// then its narration and verdict from the GET /api/lab/run stream) and, when the gateway
// may capture, the bus as collab-sniff decodes it (its JSON lines) (/api/lab/bus stream).

import { get, openEvents, openStream, post } from './api.js';
import { Page } from './page.js';
import { fill, h, serverText, setOwnText } from './render.js';

const page = new Page();
let me = null;
let running = null; // the run's EventSource while one runs
const BUS_MAX_LINES = 200;

// ---- the matrix: the catalogue's rows, whatever the exact shape the gateway gives ----------

function verdictCell(v) {
  const s = typeof v === 'string' ? v : v && typeof v === 'object' ? (v.expected || v.verdict || '') : '';
  const cls = /succeed/i.test(s) ? 'v-succeeded' : /block/i.test(s) ? 'v-blocked' : 'v-other';
  return h('td', { class: 'v ' + cls }, s ? serverText(s) : h('span', { class: 'na' }, 'not run'));
}

// {columns, rows: [{attack, control, holds, cells: {col: verdict}, runnable}]} from the catalogue's
// form ({attacks: [{attack, expected: {...}}]}), a row form ({rows}) or a cell list ({cells}).
function normalizeMatrix(m) {
  const rows = [];
  const cols = [];
  const addCol = (c) => { if (!cols.includes(c)) cols.push(c); };
  if (m && Array.isArray(m.columns)) m.columns.forEach((c) => addCol(typeof c === 'string' ? c : c.name));
  const list = m && Array.isArray(m.attacks) ? m.attacks : m && Array.isArray(m.rows) ? m.rows : null;
  if (list) {
    for (const a of list) {
      const cells = a.expected || a.cells || {};
      const map = {};
      if (Array.isArray(cells)) cells.forEach((c) => { map[c.config || c.column] = c.expected || c.verdict; });
      else Object.assign(map, cells);
      Object.keys(map).forEach(addCol);
      rows.push({ attack: a.attack || a.name, control: a.control, holds: a.attacker_holds, cells: map, runnable: a.runnable });
    }
  } else if (m && Array.isArray(m.cells)) {
    const byAttack = new Map();
    for (const c of m.cells) {
      if (!byAttack.has(c.attack)) byAttack.set(c.attack, { attack: c.attack, cells: {} });
      byAttack.get(c.attack).cells[c.config] = c.expected || c.verdict;
      addCol(c.config);
    }
    rows.push(...byAttack.values());
  }
  // stage2 and hardened first, as collab-attack matrix prints them
  cols.sort((a, b) => rank(a) - rank(b));
  return { columns: cols, rows };
}

function rank(c) {
  return c === 'stage2' ? 0 : c === 'hardened' ? 1 : 2;
}

function drawMatrix(mx) {
  fill(document.getElementById('matrix-head'), h('tr', {},
    h('th', { scope: 'col' }, 'Attack'),
    mx.columns.map((c) => h('th', { scope: 'col' }, serverText(c)))));
  fill(document.getElementById('matrix-body'), mx.rows.map((r) => h('tr', { 'data-attack': r.attack },
    h('th', { scope: 'row' }, serverText(r.attack),
      r.control ? h('span', { class: 'row-control' }, ' (', serverText(r.control), ')') : null),
    mx.columns.map((c) => verdictCell(r.cells[c])))));
}

// ---- the controls in force ------------------------------------------------------------------

function normalizeControls(c) {
  const src = c && c.controls !== undefined ? c.controls : c;
  const out = [];
  const settingOf = (v) => (typeof v === 'boolean' ? (v ? 'strong' : 'weak')
    : v && typeof v === 'object' ? (v.setting || (v.strong === true ? 'strong' : 'weak')) : v);
  if (Array.isArray(src)) {
    for (const x of src) {
      if (!x || typeof x !== 'object') continue;
      const setting = settingOf(x.setting !== undefined ? x.setting : x.value !== undefined ? x.value : x);
      // the gateway gives each setting's meaning under its name: {weak: "...", strong: "..."}
      const meaning = typeof x[setting] === 'string' ? x[setting] : '';
      out.push({ number: x.number, name: x.name || x.control, setting, meaning });
    }
  } else if (src && typeof src === 'object') {
    for (const [k, v] of Object.entries(src)) out.push({ name: k, setting: settingOf(v), meaning: '' });
  }
  return out;
}

function drawControls(c) {
  const rows = normalizeControls(c);
  const extra = [];
  if (c && c.profile !== undefined) {
    extra.push(h('tr', { class: 'profile' }, h('td', {}), h('th', { scope: 'row' }, 'profile'),
      h('td', {}, serverText(c.profile)), h('td', {})));
  }
  fill(document.getElementById('controls-body'), extra, rows.map((r) => h('tr', { 'data-control': r.name },
    h('td', {}, r.number !== undefined ? serverText(r.number) : null),
    h('th', { scope: 'row' }, serverText(r.name)),
    h('td', { class: 'setting setting-' + (r.setting === 'strong' ? 'strong' : r.setting === 'weak' ? 'weak' : 'other') },
      serverText(r.setting)),
    h('td', { class: 'meaning' }, r.meaning ? serverText(r.meaning) : null))));
  return c && (c.capture !== undefined ? c.capture : c.web_capture);
}

// ---- running an attack ----------------------------------------------------------------------

const RUN_EVENTS = ['narration', 'line', 'output', 'verdict', 'done', 'end', 'exit'];

function lineText(d) {
  if (d === null || d === undefined) return '';
  if (typeof d !== 'object') return String(d);
  for (const k of ['line', 'text', 'narration', 'message']) if (typeof d[k] === 'string') return d[k];
  return JSON.stringify(d);
}

function verdictOf(name, d) {
  if (d && typeof d === 'object' && typeof d.verdict === 'string') return d;
  if (name === 'verdict') return { verdict: lineText(d) };
  return null;
}

// aria-disabled, not disabled: the focus stays on the button the user pressed.
let runBusy = false;
function setRunning(on) {
  runBusy = on;
  for (const b of document.querySelectorAll('#attack-list button')) {
    if (on || page.ended) b.setAttribute('aria-disabled', 'true');
    else b.removeAttribute('aria-disabled');
  }
}

function finishRun(text) {
  if (running) running.close();
  running = null;
  setRunning(false);
  if (text) setOwnText(document.getElementById('run-status'), text);
}

async function run(attack) {
  if (runBusy || page.ended) return;
  const lines = document.getElementById('run-lines');
  const verdict = document.getElementById('run-verdict');
  document.getElementById('run-output').hidden = false;
  fill(document.getElementById('run-title'), 'Narration of ', serverText(attack));
  fill(lines);
  fill(verdict);
  setRunning(true);
  setOwnText(document.getElementById('run-status'), 'Starting\u2026');
  try {
    await post('/api/lab/run', { attack });
  } catch (err) {
    finishRun('');
    page.refused('Running ' + attack, err);
    return;
  }
  setOwnText(document.getElementById('run-status'), 'Running\u2026');
  let done = false;
  running = openStream('/api/lab/run', RUN_EVENTS, (name, d) => {
    const v = verdictOf(name, d);
    if (v) {
      done = true;
      fill(verdict, 'Verdict: ', serverText(v.verdict, 'strong', { class: 'verdict-word', id: 'run-verdict-word' }),
        v.evidence ? ' \u2014 ' : '', v.evidence ? serverText(v.evidence) : null);
      verdict.dataset.verdict = v.verdict;
      finishRun('Finished.');
      return;
    }
    if (name === 'done' || name === 'end' || name === 'exit') {
      done = true;
      finishRun('Finished.');
      return;
    }
    lines.appendChild(h('li', {}, serverText(lineText(d), 'span')));
  }, (state) => {
    if (state !== 'open' && !done) finishRun('The run\u2019s stream ended without a verdict.');
  });
}

function drawAttackList(mx) {
  const list = document.getElementById('attack-list');
  // the rows the gateway runs with its own broker and URL only (runnable: false for a
  // cluster row or one that needs the broker's files or an attacker's password)
  fill(list, mx.rows.filter((r) => r.runnable !== false).map((r) => {
    const b = h('button', { type: 'button', 'data-attack': r.attack, 'aria-label': 'Run ' + r.attack }, 'Run');
    b.addEventListener('click', () => run(r.attack));
    return h('li', {}, serverText(r.attack, 'span', { class: 'attack-name' }), ' ', b);
  }));
}

// ---- the bus view ---------------------------------------------------------------------------

let bus = null;

function toggleBus() {
  const button = document.getElementById('bus-toggle');
  const lines = document.getElementById('bus-lines');
  if (bus) {
    bus.close();
    bus = null;
    button.setAttribute('aria-pressed', 'false');
    setOwnText(button, 'Start the bus view');
    return;
  }
  let got = false;
  button.setAttribute('aria-pressed', 'true');
  setOwnText(button, 'Stop the bus view');
  bus = openStream('/api/lab/bus', ['bus', 'packet', 'frame'], (name, d) => {
    got = true;
    lines.appendChild(h('li', {}, serverText(typeof d === 'object' ? JSON.stringify(d) : String(d), 'code')));
    while (lines.children.length > BUS_MAX_LINES) lines.firstElementChild.remove();
  }, (state) => {
    if (state === 'closed' && bus) {
      bus = null;
      button.setAttribute('aria-pressed', 'false');
      setOwnText(button, 'Start the bus view');
      if (!got) page.ok('The bus view is not available: the gateway does not capture (web.capture = 0) or you are not an administrator.');
    }
  });
}

// ---- start ----------------------------------------------------------------------------------

async function main() {
  me = await page.start();
  if (!me) return;
  const isAdmin = me.role === 'admin';
  const stream = openEvents((name, data) => {
    if (page.handleEnding(name, data)) stream.close();
  }, (state) => {
    if (state === 'closed') page.streamClosed();
  });
  page.onEnded.push(() => {
    stream.close();
    if (bus) bus.close();
    finishRun('');
  });
  if (!isAdmin) setOwnText(document.getElementById('run-note'), 'Running attacks is for administrators only.');
  let capture;
  let matrixErr = null;
  const [mx] = await Promise.all([
    get('/api/lab/matrix').then(normalizeMatrix).catch((err) => {
      if (err.status === 401) page.refused('Reading the matrix', err);
      matrixErr = err;
      return null;
    }),
    get('/api/lab/controls').then((c) => { capture = drawControls(c); }).catch((err) => page.refused('Reading the controls', err)),
  ]);
  if (mx && mx.rows.length) {
    drawMatrix(mx);
    if (isAdmin) drawAttackList(mx);
  } else {
    // a gateway without the lab's routes (or a refusal): said where the matrix would be
    document.getElementById('matrix-wrap').hidden = true;
    fill(document.getElementById('matrix-note'), 'The matrix could not be read from the gateway',
      matrixErr ? ': ' : '.', matrixErr ? serverText(matrixErr.name, 'code') : null,
      matrixErr && matrixErr.message ? ' \u2014 ' : '', matrixErr && matrixErr.message ? serverText(matrixErr.message) : null);
    if (isAdmin) setOwnText(document.getElementById('run-note'), 'No attacks to run: the matrix could not be read from the gateway.');
  }
  if (isAdmin && capture !== false && capture !== 0) {
    document.getElementById('bus').hidden = false;
    document.getElementById('bus-toggle').addEventListener('click', toggleBus);
  }
  document.body.dataset.labReady = 'true';
}

main();
