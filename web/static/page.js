// page.js: what every signed-in page shares: who is signed in (GET /api/me), the navigation,
// log out, and saying plainly that the session ended (a session_revoked/expired/evicted
// event on the stream, or a 401 session_invalid from the gateway).

import { ApiError, ENDING_EVENTS, get, loadMe, logout } from './api.js';
import {
  renderNav, renderSessionEnded, renderWho, say, sayRefusal, setOutputMode,
} from './render.js';

const ENDED_WHY = {
  session_revoked: 'An administrator revoked your session.',
  session_expired: 'Your session expired.',
  session_evicted: 'Your session was closed because you signed in elsewhere too often.',
};

export class Page {
  constructor() {
    this.me = null;
    this.live = document.getElementById('live');
    this.banner = document.getElementById('session-ended');
    this.ended = false;
    this.onEnded = [];
  }

  // Loads /api/me and draws the frame. Resolves to me, or null when nobody is signed in
  // (the page then says so and offers the login page).
  async start() {
    try {
      this.me = await loadMe();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        this.end(err.name === 'session_invalid' || err.name === 'session_expired'
          ? 'Your session is no longer valid; it may have been revoked.'
          : 'You are not signed in.', err.name + (err.message ? ': ' + err.message : ''),
        'The gateway answered: ');
      } else {
        sayRefusal(this.live, 'Loading your session', err);
      }
      return null;
    }
    setOutputMode(this.me.controls);
    renderWho(document.getElementById('who'), this.me);
    renderNav(document.querySelector('nav[aria-label="Main"]'), this.me);
    const form = document.getElementById('logout-form');
    form.hidden = false;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await logout();
      } catch {
        // the cookie is cleared or the session gone either way
      }
      window.location.assign('login.html');
    });
    return this.me;
  }

  // The session ended: the banner says why, every action form is disabled.
  end(why, detail, label) {
    if (this.ended) return;
    this.ended = true;
    renderSessionEnded(this.banner, why, detail, label);
    for (const el of document.querySelectorAll('main form button, main form input, main form select, main form textarea, main button'))
      el.disabled = true;
    for (const f of this.onEnded) f();
  }

  // A stream event that ends the session; returns whether it was one.
  handleEnding(name, data) {
    if (!ENDING_EVENTS.includes(name)) return false;
    if (name === 'session_revoked') this.end(ENDED_WHY[name], data && data.by, 'Revoked by: ');
    else if (name === 'session_expired') this.end(ENDED_WHY[name], data && data.reason, 'Reason: ');
    else this.end(ENDED_WHY[name]);
    return true;
  }

  // A refused call: a 401 ends the page's session, anything else is shown as the broker's
  // refusal in the live region.
  refused(what, err) {
    if (err instanceof ApiError && err.status === 401) {
      this.end('Your session is no longer valid; it may have been revoked.',
        err.name + (err.message ? ': ' + err.message : ''), 'The gateway answered: ');
      return;
    }
    sayRefusal(this.live, what, err);
  }

  ok(...children) {
    say(this.live, 'ok', ...children);
  }

  // The stream closed for good (EventSource gives no reason): ask once why.
  async streamClosed() {
    if (this.ended) return;
    try {
      await get('/api/me');
      say(this.live, 'error', 'The live feed closed. Reload the page to reconnect.');
    } catch (err) {
      this.refused('The live feed', err);
    }
  }
}
