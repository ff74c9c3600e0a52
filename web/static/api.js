// api.js: the pages' only door to collab-web (docs/WEB.md 3). JSON over fetch with the
// session cookie (same origin only), the X-CSRF-Token header once /api/me gave a token
// (strong csrf), and the event streams (EventSource). Errors come back as ApiError with the
// broker's own error name and message, so that the pages show the broker's refusal.

// The broker's events (protocol/PROTOCOL.md 7); EventSource needs each named event listed.
export const BUS_EVENTS = [
  'task_assigned', 'task_reassigned', 'task_status_changed',
  'project_created', 'project_closed', 'project_deleted',
  'role_changed', 'session_revoked', 'session_expired', 'session_evicted',
];

// Session-ending events: after one of them the web session no longer acts on the bus.
export const ENDING_EVENTS = ['session_revoked', 'session_expired', 'session_evicted'];

let csrfToken = '';
let sessionParam = '';

export class ApiError extends Error {
  constructor(status, name, message) {
    super(message);
    this.status = status;
    this.name = name;
  }
}

// Under weak web_session (stage2) the gateway also takes the session in the URL and the
// pages' links carry it: that is control 18's weakness, kept on purpose (docs/WEB.md 5).
function withSession(path) {
  if (!sessionParam) return path;
  return path + (path.includes('?') ? '&' : '?') + 'session=' + encodeURIComponent(sessionParam);
}

export function pageLink(page) {
  return withSession(page);
}

async function readJson(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

// One API call. body undefined: no body. Resolves to the parsed JSON (or null), rejects with
// ApiError: status 0 and name "network" when the gateway could not be reached.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (csrfToken && method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (e) {
    throw new ApiError(0, 'network', 'the gateway could not be reached (' + e.message + ')');
  }
  const data = await readJson(res);
  if (!res.ok) {
    const name = data && typeof data.error === 'string' ? data.error : 'http_' + res.status;
    const msg = data && typeof data.message === 'string' ? data.message : res.statusText;
    throw new ApiError(res.status, name, msg);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);

// GET /api/me: {agent_id, role, handle, controls, csrf?, session_id?}. Remembers the CSRF
// token for later calls and the session id for the links (weak web_session only).
export async function loadMe() {
  const me = await get('/api/me');
  csrfToken = me && typeof me.csrf === 'string' ? me.csrf : '';
  sessionParam = me && typeof me.session_id === 'string' ? me.session_id : '';
  return me;
}

export async function login(agentId, password) {
  return post('/api/login', { agent_id: agentId, password });
}

export async function logout() {
  try {
    await post('/api/logout');
  } finally {
    csrfToken = '';
    sessionParam = '';
  }
}

// A control's setting as /api/me or /api/lab/controls gives it: "strong"/"weak", a boolean
// (true = strong) or {strong: bool}/{setting: "..."}. Unknown or missing: strong (fail safe).
export function controlStrong(controls, name) {
  if (!controls) return true;
  let v = Array.isArray(controls)
    ? controls.find((c) => c && (c.name === name || c.control === name))
    : controls[name];
  if (v && typeof v === 'object') {
    if (typeof v.strong === 'boolean') return v.strong;
    v = v.setting !== undefined ? v.setting : v.value;
  }
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v !== 'weak';
  return true;
}

// The data of a stream message: the broker's event data, unwrapped when the gateway sends
// {event, seq, data}. Undecodable text comes back as {text}.
export function eventData(msg) {
  let d;
  try {
    d = JSON.parse(msg.data);
  } catch {
    return { text: String(msg.data) };
  }
  if (d && typeof d === 'object' && d.data && typeof d.data === 'object' && typeof d.event === 'string')
    return d.data;
  return d;
}

// Opens one event stream. onEvent(name, data, lastEventId) for each named event of names
// (and for unnamed "message" events, with the name the data gives or "message");
// onState("open" | "retrying" | "closed"). Returns the EventSource.
export function openStream(path, names, onEvent, onState) {
  const es = new EventSource(path);
  for (const name of names) {
    es.addEventListener(name, (msg) => onEvent(name, eventData(msg), msg.lastEventId));
  }
  es.addEventListener('message', (msg) => {
    const d = eventData(msg);
    const name = d && typeof d.event === 'string' ? d.event : 'message';
    onEvent(name, d, msg.lastEventId);
  });
  es.addEventListener('open', () => onState && onState('open'));
  es.addEventListener('error', () => {
    if (onState) onState(es.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
  });
  return es;
}

// The bus events of the user's web session (GET /api/events).
export function openEvents(onEvent, onState) {
  return openStream('/api/events', BUS_EVENTS, onEvent, onState);
}
