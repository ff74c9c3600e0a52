// board.js: the live board. Loads /api/me and /api/board once, then changes only through
// its one event stream (/api/events): every broker event is applied to the board held in
// memory and to the page, with no further request. The actions offered follow the role
// (coordinator/admin: create a project, assign a task; worker: move its own tasks on;
// observer: none); the broker decides all the same and its refusals are shown as it gave them.

import { get, openEvents, post } from './api.js';
import { Page } from './page.js';
import { fill, h, serverText, setOwnText, setServerText, option } from './render.js';

const STATUSES = ['assigned', 'in_progress', 'completed', 'failed', 'cancelled'];
const STATUS_LABEL = {
  assigned: 'Assigned', in_progress: 'In progress', completed: 'Completed',
  failed: 'Failed', cancelled: 'Cancelled',
};
// What an assignee may move its task to (PROTOCOL.md 6, update_task_status).
const NEXT = { assigned: ['in_progress'], in_progress: ['completed', 'failed'] };
const DEFAULT_TYPE = 'general';

const page = new Page();
const projects = new Map(); // project_id -> {project_id, name, owner, status, description, tasks}
const views = new Map(); // project_id -> {article, groups: {status: {section, list, count}}, empty}
const taskViews = new Map(); // task_id -> li
const workersSeen = new Set();
let me = null;
let loaded = false;
const pending = [];

const canManage = () => me && (me.role === 'admin' || me.role === 'coordinator');

function num(v) {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

// ---- the board in memory ----------------------------------------------------------------

function putProject(src) {
  const id = num(src.project_id);
  if (id === null) return null;
  let p = projects.get(id);
  if (!p) {
    p = { project_id: id, name: '', owner: '', status: 'open', description: '', tasks: new Map() };
    projects.set(id, p);
  }
  for (const k of ['name', 'owner', 'status', 'description'])
    if (typeof src[k] === 'string') p[k] = src[k];
  return p;
}

function putTask(src) {
  const id = num(src.task_id);
  const pid = num(src.project_id);
  if (id === null || pid === null) return null;
  const p = projects.get(pid) || putProject({ project_id: pid, name: 'Project ' + pid });
  let t = p.tasks.get(id);
  if (!t) {
    t = { task_id: id, project_id: pid, title: '', status: 'assigned', assigned_to: '',
      assigned_by: '', result: '', description: '', type: '' };
    p.tasks.set(id, t);
  }
  for (const k of ['title', 'status', 'assigned_to', 'assigned_by', 'result', 'description', 'type'])
    if (typeof src[k] === 'string') t[k] = src[k];
  if (t.assigned_to) workersSeen.add(t.assigned_to);
  return t;
}

function taskAnywhere(id) {
  for (const p of projects.values()) if (p.tasks.has(id)) return p.tasks.get(id);
  return null;
}

// One broker event (PROTOCOL.md 7) applied to the board; returns whether it changed it.
function apply(name, d) {
  if (!d || typeof d !== 'object') return false;
  switch (name) {
    case 'project_created':
    case 'project_closed': {
      const p = putProject(d);
      if (!p) return false;
      if (name === 'project_closed') p.status = 'closed';
      drawProject(p);
      return true;
    }
    case 'project_deleted': {
      const id = num(d.project_id);
      const v = views.get(id);
      const p = projects.get(id);
      if (p) for (const tid of p.tasks.keys()) taskViews.delete(tid);
      projects.delete(id);
      if (v) v.article.remove();
      views.delete(id);
      drawEmpty();
      return true;
    }
    case 'task_assigned': {
      const t = putTask({ ...d, status: 'assigned' });
      if (t) drawTask(t);
      return !!t;
    }
    case 'task_reassigned': {
      const t = putTask({ ...d, status: 'assigned', assigned_to: d.to });
      if (t) drawTask(t);
      return !!t;
    }
    case 'task_status_changed': {
      const known = taskAnywhere(num(d.task_id));
      const t = putTask({ ...d, title: known ? undefined : 'Task ' + d.task_id });
      if (t) drawTask(t);
      return !!t;
    }
    default:
      return false;
  }
}

// ---- drawing ----------------------------------------------------------------------------

function drawEmpty() {
  document.getElementById('board-empty').hidden = projects.size > 0;
}

function drawProject(p) {
  let v = views.get(p.project_id);
  if (!v) {
    v = makeProjectView(p);
    views.set(p.project_id, v);
    const container = document.getElementById('projects');
    // newest first
    const after = [...container.children].find((a) => Number(a.dataset.projectId) < p.project_id);
    container.insertBefore(v.article, after || null);
  }
  setServerText(v.name, p.name);
  fill(v.meta, 'Project ', String(p.project_id), ' \u00b7 owner ', serverText(p.owner),
    ' \u00b7 ', serverText(p.status, 'span', { class: 'badge badge-' + (p.status === 'closed' ? 'closed' : 'open') }));
  v.article.dataset.status = p.status;
  if (v.assign) v.assign.hidden = p.status === 'closed' || page.ended;
  drawEmpty();
}

function makeProjectView(p) {
  const hid = 'project-' + p.project_id + '-name';
  const name = h('h3', { id: hid, class: 'project-name' });
  const meta = h('p', { class: 'project-meta' });
  const groups = {};
  const groupEls = STATUSES.map((s) => {
    const count = h('span', { class: 'count' });
    const list = h('ul', { class: 'tasks' });
    const section = h('section', { class: 'group group-' + s, 'data-status': s, hidden: true },
      h('h4', {}, STATUS_LABEL[s], ' ', count), list);
    groups[s] = { section, list, count };
    return section;
  });
  const empty = h('p', { class: 'no-tasks' }, 'No tasks yet.');
  const article = h('article', { class: 'project', 'data-project-id': p.project_id,
    'aria-labelledby': hid }, name, meta, empty, h('div', { class: 'groups' }, groupEls));
  const v = { article, name, meta, groups, empty, assign: null };
  if (canManage()) {
    v.assign = makeAssignForm(p.project_id);
    article.appendChild(v.assign);
  }
  return v;
}

function makeAssignForm(pid) {
  const id = (s) => 'p' + pid + '-' + s;
  const form = h('form', { class: 'assign-form', 'data-project-id': pid,
    'aria-label': 'Assign a task in project ' + pid },
    h('h4', {}, 'Assign a task'),
    h('div', { class: 'field' }, h('label', { for: id('title') }, 'Task title'),
      h('input', { id: id('title'), name: 'title', required: true, maxlength: 200, autocomplete: 'off' })),
    h('div', { class: 'field' }, h('label', { for: id('worker') }, 'Worker (agent id)'),
      h('input', { id: id('worker'), name: 'worker', required: true, maxlength: 64, list: 'workers',
        autocomplete: 'off', pattern: '[A-Za-z0-9_.\\-]+' })),
    h('div', { class: 'field' }, h('label', { for: id('desc') }, 'Description (optional)'),
      h('input', { id: id('desc'), name: 'description', maxlength: 2000, autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Assign task'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    assign(form, pid);
  });
  return form;
}

function drawTask(t) {
  let li = taskViews.get(t.task_id);
  if (!li) {
    li = h('li', { class: 'task', 'data-task-id': t.task_id });
    taskViews.set(t.task_id, li);
  }
  li.dataset.status = t.status;
  const tid = 'task-' + t.task_id + '-title';
  fill(li,
    serverText(t.title, 'p', { class: 'task-title', id: tid }),
    h('p', { class: 'task-meta' }, 'Task ', String(t.task_id), ' \u00b7 ',
      STATUS_LABEL[t.status] || serverText(t.status), t.assigned_to ? ' \u00b7 for ' : '',
      t.assigned_to ? serverText(t.assigned_to) : null,
      t.assigned_by ? ' \u00b7 by ' : '', t.assigned_by ? serverText(t.assigned_by) : null),
    t.description ? serverText(t.description, 'p', { class: 'task-desc' }) : null,
    t.result ? h('p', { class: 'task-result' }, 'Result: ', serverText(t.result, 'span', { class: 'result-text' })) : null,
    workerForm(t, tid));
  const v = views.get(t.project_id) || (drawProject(projects.get(t.project_id)), views.get(t.project_id));
  const g = v.groups[t.status] || v.groups.assigned;
  const after = [...g.list.children].find((x) => Number(x.dataset.taskId) > t.task_id);
  if (li.parentElement !== g.list || (after && li.nextSibling !== after)) g.list.insertBefore(li, after || null);
  drawCounts(v);
  drawWorkers();
}

function drawCounts(v) {
  let total = 0;
  for (const s of STATUSES) {
    const g = v.groups[s];
    const n = g.list.children.length;
    total += n;
    g.section.hidden = n === 0;
    setOwnText(g.count, '(' + n + ')');
  }
  v.empty.hidden = total > 0;
}

function drawWorkers() {
  const dl = document.getElementById('workers');
  const have = new Set([...dl.options].map((o) => o.value));
  for (const w of workersSeen) if (!have.has(w)) dl.appendChild(option(w));
}

// The assignee's own form: the next statuses its task may take, with a result.
function workerForm(t, titleId) {
  if (!me || page.ended || me.agent_id !== t.assigned_to || !NEXT[t.status]) return null;
  const id = (s) => 't' + t.task_id + '-' + s;
  const select = h('select', { id: id('status'), name: 'status' },
    NEXT[t.status].map((s) => h('option', { value: s }, STATUS_LABEL[s])));
  const form = h('form', { class: 'status-form', 'data-task-id': t.task_id, 'aria-labelledby': titleId },
    h('div', { class: 'field' }, h('label', { for: id('status') }, 'New status'), select),
    h('div', { class: 'field' }, h('label', { for: id('result') }, 'Result (optional)'),
      h('input', { id: id('result'), name: 'result', maxlength: 2000, autocomplete: 'off' })),
    h('button', { type: 'submit' }, 'Update task'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    updateStatus(form, t.task_id);
  });
  return form;
}

// ---- actions ------------------------------------------------------------------------------

// Runs fn once at a time per form. The button is marked aria-disabled, not disabled, so that
// the keyboard focus stays on it (a disabled button drops the focus to the page's body).
async function busy(form, fn) {
  if (form.dataset.busy === 'true' || page.ended) return;
  const button = form.querySelector('button[type="submit"]');
  form.dataset.busy = 'true';
  form.setAttribute('aria-busy', 'true');
  button.setAttribute('aria-disabled', 'true');
  try {
    await fn();
  } finally {
    delete form.dataset.busy;
    form.removeAttribute('aria-busy');
    button.removeAttribute('aria-disabled');
  }
}

async function createProject(form) {
  const name = form.elements.name.value.trim();
  const description = form.elements.description.value.trim();
  await busy(form, async () => {
    try {
      const body = description ? { name, description } : { name };
      const r = await post('/api/projects', body);
      const p = putProject({ ...r, owner: me.agent_id, name: r && r.name ? r.name : name });
      if (p) drawProject(p);
      form.reset();
      page.ok('Project created: ', serverText(p ? p.name : name), '.');
    } catch (err) {
      page.refused('Creating the project', err);
      await rereadAfterTimeout(err);
    }
  });
}

async function assign(form, pid) {
  const title = form.elements.title.value.trim();
  const worker = form.elements.worker.value.trim();
  const description = form.elements.description.value.trim();
  await busy(form, async () => {
    try {
      const body = { project_id: pid, worker, title };
      if (description) body.description = description;
      const r = await post('/api/tasks', body);
      const t = putTask({ type: DEFAULT_TYPE, ...r, project_id: pid, title, description,
        assigned_to: r && r.assigned_to ? r.assigned_to : worker, assigned_by: me.agent_id,
        status: 'assigned' });
      if (t) drawTask(t);
      form.reset();
      page.ok('Task assigned to ', serverText(worker), '.');
    } catch (err) {
      page.refused('Assigning the task', err);
      await rereadAfterTimeout(err);
    }
  });
}

async function updateStatus(form, taskId) {
  const status = form.elements.status.value;
  const result = form.elements.result.value;
  await busy(form, async () => {
    try {
      const body = { task_id: taskId, status };
      if (result) body.result = result;
      await post('/api/tasks/status', body);
      const t = taskAnywhere(taskId);
      if (t) {
        t.status = status;
        if (result) t.result = result;
        drawTask(t);
      }
      page.ok('Task ', String(taskId), ' is now ', STATUS_LABEL[status], '.');
    } catch (err) {
      page.refused('Updating the task', err);
      await rereadAfterTimeout(err);
    }
  });
}

// ---- the stream and the start -------------------------------------------------------------

function streamState(state) {
  const el = document.getElementById('stream-state');
  const text = { open: 'Live: changes appear as they happen.', retrying: 'Reconnecting to the live feed\u2026',
    closed: 'The live feed is closed.' }[state];
  setOwnText(el, text);
  el.dataset.state = state;
  if (state === 'closed') page.streamClosed();
}

function onEvent(name, data) {
  if (page.handleEnding(name, data)) {
    stream.close();
    streamState('closed');
    return;
  }
  if (name === 'role_changed') {
    page.ok('Your role was changed to ', serverText(data.role), ' by ', serverText(data.by),
      '. Log in again for it to apply to this page.');
    return;
  }
  if (!loaded) pending.push([name, data]);
  else apply(name, data);
}

let stream = null;

// Reads the board and draws it; idempotent (putProject and putTask update in place), so it
// may run again over a board already drawn.
async function readBoard() {
  const board = await get('/api/board');
  for (const src of (board && Array.isArray(board.projects) ? board.projects : [])) {
    const p = putProject(src);
    if (!p) continue;
    drawProject(p);
    for (const t of (Array.isArray(src.tasks) ? src.tasks : [])) {
      const task = putTask({ ...t, project_id: t.project_id ?? p.project_id });
      if (task) drawTask(task);
    }
  }
}

// After an action answered 504: its broker may or may not have done it (died meanwhile), and
// the gateway never sends a change twice (docs/WEB.md 2), so the page reads the board again
// to show what is, before the user decides to send it again.
async function rereadAfterTimeout(err) {
  if (!err || err.status !== 504 || page.ended) return;
  try {
    await readBoard();
    drawEmpty();
  } catch (e) {
    page.refused('Reading the board again', e);
  }
}

async function main() {
  me = await page.start();
  if (!me) return;
  document.getElementById('board-role-note').hidden = canManage() || me.role === 'worker';
  if (canManage()) {
    const section = document.getElementById('create-project');
    section.hidden = false;
    const form = document.getElementById('create-project-form');
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      createProject(form);
    });
  }
  // The stream first, so that nothing between the board's reading and the stream is lost:
  // its events wait in pending until the board is drawn, then apply (idempotently).
  stream = openEvents(onEvent, streamState);
  page.onEnded.push(() => stream.close());
  try {
    await readBoard();
  } catch (err) {
    page.refused('Loading the board', err);
  }
  loaded = true;
  for (const [name, data] of pending.splice(0)) apply(name, data);
  drawEmpty();
  document.body.dataset.boardReady = 'true';
}

main();
