// admin.js: the administrator's page. The bus sessions by handle (never a bearer token),
// revoke one, set an agent's role, the broker's counters. The page also listens to its own
// event stream so that an administrator whose session is revoked is told so at once.

import { get, openEvents, post } from './api.js';
import { Page } from './page.js';
import { fill, formatAge, h, option, serverText } from './render.js';

const page = new Page();
let me = null;

function ageOf(s, now, key, secondsKey) {
  if (s[secondsKey] !== undefined) return formatAge(s[secondsKey], true);
  const t = Number(s[key]);
  return Number.isFinite(t) && t > 0 ? formatAge(now - t) : '?';
}

function sessionRow(s, now) {
  const handle = s.handle;
  const agent = s.agent_id !== undefined ? s.agent_id : s.agent;
  const peer = s.peer_address !== undefined ? s.peer_address : s.peer;
  const mine = me && me.handle !== undefined && String(me.handle) === String(handle);
  const button = h('button', { type: 'button', class: 'danger', 'data-handle': handle,
    'aria-label': 'Revoke session ' + handle + ' of ' + agent + (mine ? ' (your own)' : '') }, 'Revoke');
  button.addEventListener('click', () => revoke(handle, agent, button));
  return h('tr', { 'data-handle': handle, 'data-agent': agent },
    h('td', {}, serverText(handle)),
    h('td', {}, serverText(agent), mine ? h('span', { class: 'you' }, ' (you)') : null),
    h('td', {}, serverText(s.role)),
    h('td', {}, ageOf(s, now, 'created', 'age_s')),
    h('td', {}, ageOf(s, now, 'last_activity', 'idle_s')),
    h('td', {}, serverText(peer, 'code')),
    h('td', {}, button));
}

async function loadSessions() {
  const body = document.getElementById('sessions-body');
  try {
    const r = await get('/api/admin/sessions');
    const list = r && Array.isArray(r.sessions) ? r.sessions : [];
    const now = Date.now();
    fill(body, list.map((s) => sessionRow(s, now)));
    if (list.length === 0) fill(body, h('tr', {}, h('td', { colspan: 7 }, 'No open sessions.')));
    const dl = document.getElementById('agents-seen');
    const agents = new Set(list.map((s) => s.agent_id || s.agent).filter(Boolean));
    fill(dl, [...agents].map((a) => option(a)));
    document.body.dataset.sessionsLoaded = 'true';
  } catch (err) {
    page.refused('Listing the sessions', err);
  }
}

async function revoke(handle, agent, button) {
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  try {
    const r = await post('/api/admin/revoke', { handle: Number(handle) });
    page.ok('Revoked ', String(r && r.revoked !== undefined ? r.revoked : 1), ' session(s) of ',
      serverText(agent), ' (handle ', serverText(handle), ').');
    await loadSessions();
    // the row and its button are gone: the keyboard focus goes back to the table
    document.getElementById('sessions-wrap').focus();
  } catch (err) {
    button.removeAttribute('aria-disabled');
    page.refused('Revoking the session', err);
  }
}

async function setRole(form) {
  const agentId = form.elements.agent_id.value.trim();
  const role = form.elements.role.value;
  const button = form.querySelector('button[type="submit"]');
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  try {
    const r = await post('/api/admin/role', { agent_id: agentId, role });
    page.ok(serverText(agentId), ' is now ', serverText(r && r.role ? r.role : role),
      r && r.previous ? ' (was ' : '', r && r.previous ? serverText(r.previous) : null,
      r && r.previous ? ')' : '', '. Under weak permissions, its open sessions keep the old role until they log in again.');
    await loadSessions();
  } catch (err) {
    page.refused('Setting the role', err);
  } finally {
    button.removeAttribute('aria-disabled');
  }
}

async function loadStats() {
  const dl = document.getElementById('stats');
  try {
    const r = await get('/api/admin/stats');
    const stats = r && typeof r.stats === 'object' && r.stats ? r.stats : r || {};
    fill(dl, Object.keys(stats).sort().map((k) => h('div', { class: 'stat' },
      h('dt', {}, serverText(k)), h('dd', {}, serverText(stats[k])))));
    document.body.dataset.statsLoaded = 'true';
  } catch (err) {
    page.refused('Reading the counters', err);
  }
}

async function main() {
  me = await page.start();
  if (!me) return;
  if (me.role !== 'admin') document.getElementById('admin-only').hidden = false;
  const stream = openEvents((name, data) => {
    if (page.handleEnding(name, data)) stream.close();
  }, (state) => {
    if (state === 'closed') page.streamClosed();
  });
  page.onEnded.push(() => stream.close());
  document.getElementById('sessions-refresh').addEventListener('click', loadSessions);
  document.getElementById('stats-refresh').addEventListener('click', loadStats);
  const form = document.getElementById('role-form');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setRole(form);
  });
  await Promise.all([loadSessions(), loadStats()]);
  document.body.dataset.adminReady = 'true';
}

main();
