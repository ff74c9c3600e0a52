// render.js: the ONLY module that puts text into the pages. Server text (names, titles,
// results, agent ids, error messages: anything that came over HTTP or the event stream) goes
// in through serverText/setServerText, which follow control 20, web_output (docs/WEB.md 5):
//   strong: textContent, so a title is only ever text (with the gateway's strict CSP);
//   weak:   innerHTML, so a task result carrying markup runs in the reader's browser. This is
//           the deliberate weakness that the web-xss attack demonstrates; do not "fix" it here,
//           set web_output = strong.
// The pages' own constant words go in as text nodes (h's string children), never as HTML.
// No other module may assign innerHTML, outerHTML or textContent (the browser tests check).

import { controlStrong, pageLink } from './api.js';

let strongOutput = true; // until /api/me says otherwise: text only

// Reads web_output from /api/me's controls.
export function setOutputMode(controls) {
  strongOutput = controlStrong(controls, 'web_output');
  document.documentElement.dataset.webOutput = strongOutput ? 'strong' : 'weak';
}

function str(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// Puts server text into el, replacing what it held.
export function setServerText(el, value) {
  if (strongOutput) el.textContent = str(value);
  else el.innerHTML = str(value); // weak web_output, on purpose (see the banner)
  return el;
}

// A new element (span by default) holding server text.
export function serverText(value, tag = 'span', attrs = {}) {
  return setServerText(h(tag, attrs), value);
}

// Builds an element: attrs sets attributes (class, id, for, type, aria-*, data-*...;
// true/false for boolean attributes, null skipped); children are nodes or the page's own
// constant strings (made text nodes, never HTML); arrays are flattened, null/false skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) throw new Error('render.h: no inline handlers (' + k + ')');
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// Replaces el's content with children (as h takes them).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// An <option> whose value and label are server text (a value is an attribute: never HTML).
export function option(value, label, selected = false) {
  const o = h('option', { value: str(value), selected });
  return setServerText(o, label === undefined ? value : label);
}

// A message in a live region: kind "info", "ok" or "error".
export function say(region, kind, ...children) {
  return fill(region, h('p', { class: 'msg msg-' + kind }, ...children));
}

// A refusal (ApiError or Error): the broker's error name and message, as the broker said them.
export function sayRefusal(region, what, err) {
  const name = err && err.name ? err.name : 'error';
  const msg = err && err.message ? err.message : '';
  return say(region, 'error', what + ' refused: ', serverText(name, 'code', { class: 'err-name' }),
    msg ? ' \u2014 ' : '', msg ? serverText(msg, 'span', { class: 'err-message' }) : null);
}

// The page's signed-in bar: agent, role and, under weak web_session (stage2), the user's own
// bus session id, because predicting such ids is the point of control 1.
export function renderWho(container, me) {
  const parts = [
    'Signed in as ', serverText(me.agent_id, 'strong', { id: 'who-agent' }),
    ' (', serverText(me.role, 'span', { id: 'who-role' }), ')',
  ];
  fill(container, h('p', { class: 'who-line' }, ...parts));
  if (typeof me.session_id === 'string' && me.session_id) {
    container.appendChild(h('p', { class: 'who-session' },
      'Your bus session id (shown under stage2, where such ids can be predicted): ',
      serverText(me.session_id, 'code', { id: 'who-session-id' })));
  }
}

// The navigation: hides what the role may not open and, under weak web_session only, makes
// the links carry the session (control 18's weakness).
export function renderNav(nav, me) {
  for (const a of nav.querySelectorAll('a[data-page]')) {
    a.setAttribute('href', pageLink(a.dataset.page));
    if (a.dataset.role === 'admin' && (!me || me.role !== 'admin')) a.closest('li').hidden = true;
  }
}

// A session that ended: the page says so plainly and where to go.
// label (the page's own words) introduces detail (server text), e.g. "Revoked by: admin".
export function renderSessionEnded(banner, why, detail, label = '') {
  banner.hidden = false;
  fill(banner,
    h('h2', {}, 'Your session has ended'),
    h('p', { class: 'ended-why' }, why),
    detail ? h('p', { class: 'ended-detail' }, label, serverText(detail, 'code')) : null,
    h('p', {}, h('a', { href: 'login.html' }, 'Log in again')));
  banner.focus();
}

// "3 min 12 s" from milliseconds (or seconds when inSeconds).
export function formatAge(value, inSeconds = false) {
  let s = Math.max(0, Math.floor(inSeconds ? Number(value) : Number(value) / 1000));
  if (!Number.isFinite(s)) return '?';
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hr = Math.floor(s / 3600); s -= hr * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return d + ' d ' + hr + ' h';
  if (hr) return hr + ' h ' + m + ' min';
  if (m) return m + ' min ' + s + ' s';
  return s + ' s';
}

// The page's own text in el (a constant of the page, or a number it computed).
export function setOwnText(el, text) {
  el.textContent = String(text);
  return el;
}
