// login.js: the login form. POST /api/login {agent_id, password}; on success the gateway has
// set the web session cookie and the board opens. A refusal shows the broker's error.

import { login } from './api.js';
import { say, sayRefusal } from './render.js';

const form = document.getElementById('login-form');
const live = document.getElementById('live');
const button = document.getElementById('login-submit');

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const agentId = form.elements.agent_id.value.trim();
  const password = form.elements.password.value;
  if (!agentId || !password) {
    say(live, 'error', 'Enter an agent id and a password.');
    (agentId ? form.elements.password : form.elements.agent_id).focus();
    return;
  }
  button.disabled = true;
  form.setAttribute('aria-busy', 'true');
  say(live, 'info', 'Logging in\u2026');
  try {
    await login(agentId, password);
    say(live, 'ok', 'Logged in. Opening the board\u2026');
    window.location.assign('board.html');
  } catch (err) {
    sayRefusal(live, 'Login', err);
    form.elements.password.value = '';
    form.elements.password.focus();
    button.disabled = false;
  } finally {
    form.removeAttribute('aria-busy');
  }
});

// Already signed in and back here (e.g. after logging out): nothing to do but offer the form.
document.body.dataset.loginReady = 'true';
