// ward dashboard: plain ES module, no framework, no build step, nothing fetched from outside
// this origin. Everything shown comes from /api/v1 with the session cookie; state-changing
// requests carry the X-CSRF-Token header. Text from the API is only ever inserted as text
// (textContent / text nodes), never as HTML.
//
// Privacy: the session's CSRF token lives in memory only (never localStorage); the alert text
// search is kept in memory, not in the URL; other filters in the URL fragment are detector
// names, severities, statuses and entity ids (addresses or pseudonymous tokens).

const API = '/api/v1';
const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'];
const STATUSES = ['open', 'acknowledged', 'closed'];
const DETECTORS = ['net.supervised', 'net.anomaly', 'net.device', 'ehr.access', 'fraud.provider'];
const ACT_ROLES = new Set(['admin', 'analyst', 'privacy_officer']);
const AUDIT_ROLES = new Set(['admin', 'auditor', 'privacy_officer']);
const PRIVACY_ROLES = new Set(['admin', 'auditor', 'privacy_officer']);
// Viewers do not see the response queue: actions carry internal addresses and commands.
const RESPONSE_ROLES = new Set(['admin', 'analyst', 'auditor', 'clinical_engineer', 'privacy_officer']);
const JOB_STATES = ['awaiting_approval', 'pending', 'running', 'succeeded', 'failed', 'skipped', 'rejected', 'expired'];
const DONE_STATES = JOB_STATES.filter((x) => x !== 'awaiting_approval');
const RESOLUTIONS = [
  ['true_positive', 'True positive (a real attack or misuse)'],
  ['false_positive', 'False positive (the detector was wrong)'],
  ['benign', 'Benign (expected behaviour)'],
  ['duplicate', 'Duplicate of another alert'],
];
const ROLE_NAMES = {
  admin: 'administrator',
  analyst: 'analyst',
  privacy_officer: 'privacy officer',
  auditor: 'auditor',
  viewer: 'viewer',
  clinical_engineer: 'clinical engineer',
};
const CRITICALITY_ORDER = { life_sustaining: 0, clinical: 1, business: 2, unknown: 3 };
const PAGE = 50;

/** The signed-in user: {user, role, csrf}, or null. In memory only. */
let session = null;
/** Increases on every navigation; a view that finishes loading late checks it and gives up. */
let generation = 0;
/** View state that must not go into the URL or that survives re-rendering. */
const mem = {
  q: '',
  pages: [null],
  pageKey: '',
  selected: new Set(),
  deviceSort: { key: 'criticality', dir: 1 },
  deviceCrit: '',
  auditFrom: 1,
  privacyOffset: 0,
  jobPages: [null],
  auditStack: [],
  flash: '',
};

// ------------------------------------------------------------------------------------------
// DOM helpers
// ------------------------------------------------------------------------------------------

function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
}

/** Creates an HTML element: attributes (on* become listeners), then children. */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, kids);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Creates an SVG element (attributes only, no inline styles). */
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    el.setAttribute(k, String(v));
  }
  append(el, kids);
  return el;
}

let uid = 0;
function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

const $ = (sel) => document.querySelector(sel);

/** A labelled form field. `control` is an input/select/textarea without an id. */
function field(label, control, hint) {
  const id = nextId('f');
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('div', { class: 'muted', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', `${id}-hint`);
  }
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

function select(name, options, current) {
  return h(
    'select',
    { name },
    options.map(([value, text]) => h('option', { value, selected: value === current }, text)),
  );
}

/** A table in a horizontally scrolling, keyboard-reachable region. */
function table(caption, headers, rows, opts = {}) {
  const t = h(
    'table',
    { class: opts.class },
    h('caption', { class: opts.hideCaption ? 'visually-hidden' : null }, caption),
    h('thead', null, h('tr', null, headers.map((x) => (x instanceof Node ? x : h('th', { scope: 'col' }, x))))),
    h('tbody', null, rows),
  );
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption }, t);
}

function th(text, cls) {
  return h('th', { scope: 'col', class: cls }, text);
}

function sevBadge(sev) {
  const known = SEVERITIES.includes(sev) ? sev : 'info';
  return h('span', { class: `sev sev-${known}` }, sev || 'unknown');
}

function statusBadge(st) {
  const known = STATUSES.includes(st) ? st : 'open';
  return h('span', { class: `status-badge st-${known}` }, st || 'open');
}

function critBadge(c) {
  const known = c in CRITICALITY_ORDER ? c : 'unknown';
  return h('span', { class: `crit crit-${known}` }, (c || 'unknown').replace('_', ' '));
}

/** `2024-05-06T02:41:45.965155Z` as `2024-05-06 02:41:45 UTC`. */
function fmtTime(iso) {
  if (!iso || typeof iso !== 'string') return '—';
  const m = iso.match(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

function fmtNum(n) {
  return typeof n === 'number' ? n.toLocaleString('en') : '—';
}

function alertLink(a) {
  return `#/alerts/${encodeURIComponent(a.id)}`;
}

function canAct() {
  return Boolean(session && ACT_ROLES.has(session.role));
}

function canSeeResponses() {
  return Boolean(session && RESPONSE_ROLES.has(session.role));
}

function canAudit() {
  return Boolean(session && AUDIT_ROLES.has(session.role));
}

// ------------------------------------------------------------------------------------------
// Status region and API
// ------------------------------------------------------------------------------------------

function announce(text, isError = false) {
  const el = $('#status');
  el.classList.toggle('error', isError);
  el.setAttribute('role', isError ? 'alert' : 'status');
  el.textContent = text;
}

class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** Calls the API; returns the parsed JSON (null for 204). Throws ApiError. */
async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && session && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let resp;
  try {
    resp = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, 'network', 'The ward server cannot be reached. Check that ward serve is running.');
  }
  if (resp.status === 204) return null;
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const err = data && data.error ? data.error : {};
    const e = new ApiError(
      resp.status,
      err.code || `http_${resp.status}`,
      err.message || `The server answered ${resp.status}.`,
      resp.headers.get('Retry-After'),
    );
    if (resp.status === 401 && path !== '/auth/login' && path !== '/auth/me') {
      session = null;
      showSignIn('Your session has ended. Please sign in again.');
    }
    throw e;
  }
  return data;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, v);
  }
  const str = q.toString();
  return str ? `?${str}` : '';
}

// ------------------------------------------------------------------------------------------
// Page frame, navigation, sign-in
// ------------------------------------------------------------------------------------------

/** Replaces the view and moves focus to its heading so screen readers announce the page. */
function setView(title, ...nodes) {
  document.title = `${title} · ward`;
  const view = $('#view');
  view.replaceChildren(...nodes.flat().filter((n) => n !== null && n !== undefined && n !== false));
  const h1 = view.querySelector('h1');
  if (h1) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

function markNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const nav = $('#primary-nav');
  nav.classList.remove('open');
  $('#nav-toggle').setAttribute('aria-expanded', 'false');
}

function setSignedIn(s) {
  session = s;
  document.body.classList.toggle('signed-out', !s);
  $('#who').textContent = s ? `${s.user} (${ROLE_NAMES[s.role] || s.role})` : '';
  // Only roles that may read the audit trail see it in the navigation.
  const audit = document.querySelector('[data-nav="audit"]');
  if (audit) audit.parentElement.hidden = Boolean(s) && !AUDIT_ROLES.has(s.role);
  const privacy = document.querySelector('[data-nav="privacy"]');
  if (privacy) privacy.parentElement.hidden = Boolean(s) && !PRIVACY_ROLES.has(s.role);
  const responses = document.querySelector('[data-nav="responses"]');
  if (responses) responses.parentElement.hidden = Boolean(s) && !RESPONSE_ROLES.has(s.role);
}

function showSignIn(message) {
  generation += 1;
  setSignedIn(null);
  announce('');
  const err = h('div', { class: 'form-error', id: 'signin-error', role: 'alert', 'aria-live': 'assertive' }, message || '');
  const user = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in');
  const form = h(
    'form',
    { class: 'panel signin', id: 'signin-form', 'aria-labelledby': 'signin-title', novalidate: true },
    h('h1', { id: 'signin-title' }, 'Sign in to ward'),
    field('User name', user),
    field('Password', pass),
    err,
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!user.value || !pass.value) {
      err.textContent = 'Enter your user name and password.';
      (user.value ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    err.textContent = '';
    try {
      const r = await api('POST', '/auth/login', { username: user.value, password: pass.value });
      pass.value = '';
      setSignedIn({ user: r.user, role: r.role, csrf: r.csrf_token });
      route();
    } catch (e) {
      pass.value = '';
      if (e.status === 429) {
        const secs = Number.parseInt(e.retryAfter || '', 10);
        err.textContent = Number.isFinite(secs)
          ? `Too many failed sign-ins. Try again in ${secs} seconds${secs >= 120 ? ` (about ${Math.ceil(secs / 60)} minutes)` : ''}.`
          : 'Too many failed sign-ins. Try again in a few minutes.';
      } else if (e.status === 404) {
        err.textContent = 'This server has no sign-in route: it is older than this dashboard.';
      } else if (e.status === 401 || e.status === 400) {
        err.textContent = 'The user name or password is wrong.';
      } else {
        err.textContent = e.message;
      }
      pass.focus();
    } finally {
      submit.disabled = false;
    }
  });
  setView('Sign in', form);
  user.focus();
}

async function signOut() {
  try {
    await api('POST', '/auth/logout');
  } catch (e) {
    // 401: the session had already ended, so we are signed out. Anything else: the server
    // did not end the session, and on a shared workstation the user must know that.
    if (!(e instanceof ApiError) || e.status !== 401) {
      announce(`Sign-out failed: ${e.message} You are still signed in; try again.`, true);
      return;
    }
  }
  mem.selected.clear();
  mem.q = '';
  showSignIn('You have signed out.');
}

/** Parses `#/alerts/ID?x=y` into {parts, params}. */
function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(2) : '';
  const [path, qs] = raw.split('?', 2);
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, params: new URLSearchParams(qs || '') };
}

async function route() {
  if (!session) return;
  generation += 1;
  const g = generation;
  const { parts, params } = parseHash();
  const [section, id] = parts;
  const views = {
    '': ['overview', () => viewOverview(g)],
    alerts: ['alerts', () => (id ? viewAlert(g, id) : viewAlerts(g, params))],
    devices: ['devices', () => viewDevices(g)],
    cases: ['cases', () => (id ? viewCase(g, id) : viewCases(g))],
    audit: ['audit', () => viewAudit(g)],
    privacy: ['privacy', () => (id ? viewPrivacyUser(g, id) : viewPrivacy(g))],
    responses: ['responses', () => viewResponses(g)],
    // claims fraud: the provider alerts (one per flagged provider, with its reasons)
    providers: ['providers', () => viewAlerts(g, new URLSearchParams({ ...Object.fromEntries(params), detector: 'fraud.provider' }))],
  };
  const entry = views[section || ''];
  if (!entry) {
    markNav('');
    setView('Not found', h('h1', null, 'Page not found'), h('p', null, h('a', { href: '#/' }, 'Back to the overview')));
    return;
  }
  markNav(entry[0]);
  announce('Loading…');
  try {
    await entry[1]();
    if (g === generation) announce(mem.flash);
    mem.flash = '';
  } catch (e) {
    if (g !== generation || e.status === 401) return;
    announce(e.message, true);
    const msg = e.status === 403
      ? 'Your role may not see this page. Ask an administrator if you need access.'
      : e.status === 404
        ? 'It was not found: it may have been removed, or this server does not offer it yet.'
        : e.message;
    setView('Problem', h('h1', null, e.status === 403 ? 'Not available to your role' : 'Something went wrong'), h('p', { class: 'notice warn' }, msg));
  }
}

// ------------------------------------------------------------------------------------------
// Charts (hand-drawn SVG, each with a text alternative and a data table)
// ------------------------------------------------------------------------------------------

function niceMax(v) {
  if (v <= 4) return 4;
  const pow = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (m * pow >= v) return m * pow;
  }
  return 10 * pow;
}

function bucketLabel(iso, bucket) {
  if (typeof iso !== 'string') return '';
  return bucket === 'day' ? iso.slice(5, 10) : iso.slice(11, 16);
}

/** Stacked bars of alerts per bucket by severity. */
function severityChart(stats) {
  const series = Array.isArray(stats.series) ? stats.series : [];
  const bucket = stats.bucket === 'day' ? 'day' : 'hour';
  const totals = series.map((b) => SEVERITIES.reduce((n, sev) => n + (Number(b[sev]) || 0), 0));
  const sum = totals.reduce((a, b) => a + b, 0);
  const peakAt = totals.indexOf(Math.max(0, ...totals));
  // Drawn at the width it will show at (so its text stays at the page's size), within bounds.
  const W = Math.round(Math.min(1300, Math.max(480, ($('#view').clientWidth || 800) - 40)));
  const H = 250;
  const m = { l: 44, r: 8, t: 10, b: 34 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const max = niceMax(Math.max(0, ...totals));
  const n = Math.max(1, series.length);
  const step = pw / n;
  const bw = Math.max(1, step * 0.78);
  const titleId = nextId('chart-title');
  const descId = nextId('chart-desc');
  const desc = sum === 0
    ? `No alerts between ${fmtTime(stats.from)} and ${fmtTime(stats.to)}.`
    : `${fmtNum(sum)} alerts between ${fmtTime(stats.from)} and ${fmtTime(stats.to)} in ${series.length} ${bucket === 'day' ? 'days' : 'hours'}; the busiest ${bucket} began ${fmtTime(series[peakAt]?.start)} with ${fmtNum(totals[peakAt])}. The table below lists every ${bucket}.`;
  const svg = s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    s('title', { id: titleId }, `Alerts by severity per ${bucket}`),
    s('desc', { id: descId }, desc),
  );
  const ticks = 4;
  for (let i = 0; i <= ticks; i += 1) {
    const v = (max / ticks) * i;
    const y = m.t + ph - (v / max) * ph;
    svg.append(
      s('line', { class: 'grid-line', x1: m.l, x2: W - m.r, y1: y, y2: y }),
      s('text', { x: m.l - 6, y: y + 4, 'text-anchor': 'end' }, Number.isInteger(v) ? v : v.toFixed(1)),
    );
  }
  svg.append(s('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: m.t + ph, y2: m.t + ph }));
  const labelEvery = Math.max(1, Math.ceil(n / 12));
  series.forEach((b, i) => {
    const x = m.l + i * step + (step - bw) / 2;
    const parts = SEVERITIES.filter((sev) => Number(b[sev]) > 0).map((sev) => `${b[sev]} ${sev}`);
    const g = s('g', { class: 'bucket' }, s('title', null, `${fmtTime(b.start)}: ${totals[i]} alert${totals[i] === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}`));
    // A transparent full-height target makes the tooltip reachable on empty buckets too.
    g.append(s('rect', { x: m.l + i * step, y: m.t, width: step, height: ph, fill: 'transparent' }));
    let y = m.t + ph;
    for (const sev of SEVERITIES) {
      const v = Number(b[sev]) || 0;
      if (v <= 0) continue;
      const hgt = (v / max) * ph;
      y -= hgt;
      g.append(s('rect', { class: `fill-${sev}`, x, y, width: bw, height: Math.max(hgt, 0.5) }));
    }
    svg.append(g);
    if (i % labelEvery === 0) {
      svg.append(s('text', { x: x + bw / 2, y: H - m.b + 16, 'text-anchor': 'middle' }, bucketLabel(b.start, bucket)));
    }
  });
  svg.append(s('text', { x: m.l, y: H - 4 }, bucket === 'day' ? 'day (UTC)' : 'hour starting (UTC)'));
  const legend = h(
    'ul',
    { class: 'legend', 'aria-label': 'Severity colours' },
    SEVERITIES.slice().reverse().map((sev) => h('li', null, h('span', { class: `swatch sev-${sev}`, 'aria-hidden': 'true' }), sev)),
  );
  const rows = series.map((b, i) => h(
    'tr',
    null,
    h('th', { scope: 'row', class: 'time' }, fmtTime(b.start)),
    SEVERITIES.map((sev) => h('td', { class: 'num' }, fmtNum(Number(b[sev]) || 0))),
    h('td', { class: 'num' }, fmtNum(totals[i])),
  ));
  const data = h(
    'details',
    { class: 'data' },
    h('summary', null, 'Show the numbers as a table'),
    table(`Alerts by severity per ${bucket}`, [th(bucket === 'day' ? 'Day' : 'Hour'), ...SEVERITIES.map((x) => th(x, 'num')), th('Total', 'num')], rows),
  );
  return [svg, legend, data];
}

/** Units and wording of contribution weights, by detector. */
function weightKind(detector, contributions) {
  if (detector === 'net.supervised' || detector === 'fraud.provider') return { unit: 'log-odds', fmt: (w) => `${w >= 0 ? '+' : '−'}${Math.abs(w).toFixed(2)}` };
  if (detector === 'net.device') return { unit: 'score points', fmt: (w) => `${w >= 0 ? '+' : '−'}${Math.abs(w).toFixed(0)}` };
  const total = contributions.reduce((a, c) => a + Math.abs(Number(c.weight) || 0), 0);
  if (detector === 'net.anomaly' && total > 0 && total <= 1.0001) return { unit: 'share of the unusualness', fmt: (w) => `${(w * 100).toFixed(w * 100 < 1 ? 2 : 0)}%` };
  return { unit: 'weight', fmt: (w) => w.toFixed(3) };
}

/** One contribution as a sentence (DOM nodes). */
function contributionSentence(detector, c, kind) {
  const w = Number(c.weight) || 0;
  const name = h('code', null, c.feature);
  const value = h('strong', null, c.value);
  if (detector === 'net.supervised') {
    return [name, ' was ', value, w >= 0 ? '; this pushed the model towards “attack” by ' : '; this pulled the model away from “attack” by ', `${Math.abs(w).toFixed(2)} log-odds.`];
  }
  if (detector === 'fraud.provider') {
    return [name, ': ', value, w >= 0 ? '; this pushed the provider model towards “fraud” by ' : '; this pulled the provider model away from “fraud” by ', `${Math.abs(w).toFixed(2)} log-odds.`];
  }
  if (detector === 'net.device') {
    return w > 0
      ? [name, ' was ', value, `; this added ${Math.abs(w).toFixed(0)} points to the score.`]
      : [name, ' was ', value, w < 0 ? `; this took ${Math.abs(w).toFixed(0)} points off the score.` : ' (context for the finding; it added no points).'];
  }
  if (detector === 'net.anomaly' && kind.unit.startsWith('share')) {
    return [name, ' was ', value, `; it accounts for ${kind.fmt(w)} of how far the flow is from normal traffic.`];
  }
  return [name, ' was ', value, ` (weight ${kind.fmt(w)}).`];
}

/** Horizontal bars of contribution weights; diverging around zero when some are negative. */
function contributionChart(detector, contributions) {
  const kind = weightKind(detector, contributions);
  const weights = contributions.map((c) => Number(c.weight) || 0);
  const maxAbs = Math.max(1e-9, ...weights.map(Math.abs));
  const hasNeg = weights.some((w) => w < 0);
  const W = 640;
  const rowH = 42;
  const m = { l: 8, r: 92, t: 6 };
  const pw = W - m.l - m.r;
  const zeroX = hasNeg ? m.l + pw / 2 : m.l;
  const scale = (hasNeg ? pw / 2 : pw) / maxAbs;
  const H = m.t + rowH * contributions.length + 6;
  const titleId = nextId('contrib-title');
  const descId = nextId('contrib-desc');
  const desc = contributions.map((c, i) => `${c.feature} = ${c.value}: ${kind.fmt(weights[i])}`).join('; ');
  const svg = s(
    'svg',
    { class: 'chart contrib-chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${titleId} ${descId}` },
    s('title', { id: titleId }, `What drove the score (${kind.unit})`),
    s('desc', { id: descId }, desc),
  );
  contributions.forEach((c, i) => {
    const y = m.t + i * rowH;
    const w = weights[i];
    const len = Math.max(Math.abs(w) * scale, w === 0 ? 0 : 1.5);
    const x = w >= 0 ? zeroX : zeroX - len;
    let label = `${c.feature} = ${c.value}`;
    if (label.length > 70) label = `${label.slice(0, 69)}…`;
    svg.append(s(
      'g',
      null,
      s('title', null, `${c.feature} = ${c.value}: ${kind.fmt(w)} ${kind.unit}`),
      s('text', { x: m.l, y: y + 14 }, label),
      s('rect', { class: w >= 0 ? 'bar-pos' : 'bar-neg', x, y: y + 20, width: len, height: 14, rx: 2 }),
      s('text', { x: Math.max(zeroX, x + len) + 6, y: y + 32 }, kind.fmt(w)),
    ));
  });
  if (hasNeg) svg.append(s('line', { class: 'zero', x1: zeroX, x2: zeroX, y1: m.t + 18, y2: H - 2 }));
  const rows = contributions.map((c, i) => h('tr', null, h('th', { scope: 'row' }, h('code', null, c.feature)), h('td', null, c.value), h('td', { class: 'num' }, kind.fmt(weights[i]))));
  const data = h(
    'details',
    { class: 'data' },
    h('summary', null, 'Show the contributions as a table'),
    table('Feature contributions', [th('Feature'), th('Observed value'), th(kind.unit, 'num')], rows),
  );
  return { svg, data, kind };
}

// ------------------------------------------------------------------------------------------
// Overview
// ------------------------------------------------------------------------------------------

async function viewOverview(g) {
  let stats = null;
  let problem = null;
  try {
    stats = await api('GET', '/stats');
  } catch (e) {
    if (e.status === 401) throw e;
    problem = e;
  }
  if (g !== generation) return;
  const head = h('div', { class: 'page-head' }, h('h1', null, 'Overview'), stats ? h('span', { class: 'sub' }, `${fmtTime(stats.from)} to ${fmtTime(stats.to)}`) : null);
  if (!stats) {
    setView('Overview', head, h('p', { class: 'notice warn' }, `Statistics are not available: ${problem.message}`), h('p', null, h('a', { href: '#/alerts' }, 'Go to the alert list')));
    return;
  }
  const byStatus = stats.by_status || {};
  const counts = h(
    'ul',
    { class: 'counts' },
    h('li', null, h('a', { href: '#/alerts' }, h('span', { class: 'n' }, fmtNum(stats.total)), h('span', { class: 'l' }, 'alerts in total'))),
    STATUSES.map((st) => h('li', null, h('a', { href: `#/alerts?status=${st}` }, h('span', { class: 'n' }, fmtNum(byStatus[st] || 0)), h('span', { class: 'l' }, st)))),
  );
  const top = Array.isArray(stats.top_entities) ? stats.top_entities : [];
  const topTable = top.length
    ? table('Entities with the most alerts', [th('Entity'), th('Alerts', 'num'), th('Highest severity')], top.map((t) => h(
      'tr',
      null,
      h('td', null, h('a', { href: `#/alerts${query({ entity: t.entity })}` }, h('span', { class: 'mono' }, t.entity))),
      h('td', { class: 'num' }, fmtNum(t.count)),
      h('td', null, sevBadge(t.max_severity)),
    )), { hideCaption: true })
    : h('p', { class: 'muted' }, 'No alerts yet.');
  const dets = Array.isArray(stats.by_detector) ? stats.by_detector : [];
  const detTable = dets.length
    ? table('Alerts by detector', [th('Detector'), th('Alerts', 'num'), th('Last alert')], dets.map((d) => h(
      'tr',
      null,
      h('td', null, h('a', { href: `#/alerts${query({ detector: d.detector })}` }, d.detector)),
      h('td', { class: 'num' }, fmtNum(d.count)),
      h('td', { class: 'time' }, fmtTime(d.last)),
    )), { hideCaption: true })
    : h('p', { class: 'muted' }, 'No detector has raised an alert yet.');
  const p = stats.pipeline;
  const pipeline = p
    ? h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Live pipeline'), h('dd', null, p.running ? 'running' : h('strong', null, 'stopped')),
      h('dt', null, 'Events accepted'), h('dd', null, fmtNum(p.events_accepted)),
      h('dt', null, 'Events rejected'), h('dd', null, fmtNum(p.events_rejected)),
      h('dt', null, 'Alerts raised'), h('dd', null, fmtNum(p.alerts_raised)),
      h('dt', null, 'Queue'), h('dd', null, fmtNum(p.queue)),
      h('dt', null, 'Last event'), h('dd', null, fmtTime(p.last_event)),
    )
    : h('p', { class: 'muted' }, 'No live pipeline: this server shows stored alerts only.');
  setView(
    'Overview',
    head,
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'panel span-12', 'aria-labelledby': 'ov-status' }, h('h2', { id: 'ov-status' }, 'Alerts by status'), counts),
      h('section', { class: 'panel span-12', 'aria-labelledby': 'ov-chart' }, h('h2', { id: 'ov-chart' }, `Alerts by severity per ${stats.bucket === 'day' ? 'day' : 'hour'}`), severityChart(stats)),
      h('section', { class: 'panel span-6', 'aria-labelledby': 'ov-top' }, h('h2', { id: 'ov-top' }, 'Top entities'), topTable),
      h('section', { class: 'panel span-6', 'aria-labelledby': 'ov-det' }, h('h2', { id: 'ov-det' }, 'Detector health'), detTable, h('h3', null, 'Pipeline'), pipeline),
    ),
  );
}

// ------------------------------------------------------------------------------------------
// Alert list
// ------------------------------------------------------------------------------------------

function alertFilters(params) {
  const f = {};
  const sev = params.get('severity');
  if (SEVERITIES.includes(sev)) f.severity = sev;
  const st = params.get('status');
  if (STATUSES.includes(st)) f.status = st;
  const det = params.get('detector');
  if (det) f.detector = det;
  const ent = params.get('entity');
  if (ent) f.entity = ent;
  return f;
}

async function viewAlerts(g, params) {
  const f = alertFilters(params);
  const key = JSON.stringify([f, mem.q]);
  if (key !== mem.pageKey) {
    mem.pageKey = key;
    mem.pages = [null];
  }
  const cursor = mem.pages[mem.pages.length - 1];
  const [data, cases] = await Promise.all([
    api('GET', `/alerts${query({ ...f, q: mem.q, limit: PAGE, cursor })}`),
    canAct() ? api('GET', '/cases').catch(() => null) : Promise.resolve(null),
  ]);
  if (g !== generation) return;
  const alerts = Array.isArray(data.alerts) ? data.alerts : [];

  const sevSel = select('severity', [['', 'Any'], ...SEVERITIES.map((x) => [x, `${x} or worse`])], f.severity || '');
  const stSel = select('status', [['', 'Any'], ...STATUSES.map((x) => [x, x])], f.status || '');
  const detSel = select('detector', [['', 'Any'], ...[...new Set([...DETECTORS, f.detector].filter(Boolean))].map((x) => [x, x])], f.detector || '');
  const ent = h('input', { type: 'text', name: 'entity', value: f.entity || '', placeholder: 'host:10.1.2.3', spellcheck: 'false' });
  const q = h('input', { type: 'search', name: 'q', value: mem.q });
  const form = h(
    'form',
    { class: 'panel filters', role: 'search', 'aria-label': 'Filter alerts', id: 'alert-filters' },
    field('Severity', sevSel),
    field('Status', stSel),
    field('Detector', detSel),
    field('Entity', ent),
    field('Title contains', q),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply filters'), h('button', { type: 'reset', class: 'secondary' }, 'Clear')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    mem.q = q.value.trim();
    const next = `#/alerts${query({ severity: sevSel.value, status: stSel.value, detector: detSel.value, entity: ent.value.trim() })}`;
    if (location.hash === next) route();
    else location.hash = next;
  });
  form.addEventListener('reset', (ev) => {
    ev.preventDefault();
    mem.q = '';
    if (location.hash === '#/alerts') route();
    else location.hash = '#/alerts';
  });

  const selectable = canAct();
  const rows = alerts.map((a) => {
    const st = (a.state && a.state.status) || 'open';
    const box = selectable
      ? h('td', null, h('input', {
        type: 'checkbox',
        'aria-label': `Select alert: ${a.title}`,
        checked: mem.selected.has(a.id),
        onchange: (ev) => {
          if (ev.target.checked) mem.selected.add(a.id);
          else mem.selected.delete(a.id);
          updateSelection();
        },
      }))
      : null;
    return h(
      'tr',
      { 'data-alert-id': a.id },
      box,
      h('td', null, sevBadge(a.severity)),
      h('td', { class: 'title-cell' }, h('a', { href: alertLink(a), class: 'alert-link' }, a.title)),
      h('td', { class: 'time' }, fmtTime(a.time)),
      h('td', { class: 'num opt' }, a.score),
      h('td', { class: 'opt' }, a.detector),
      h('td', { class: 'mono entity' }, a.entity),
      h('td', null, statusBadge(st)),
    );
  });
  const headers = [
    selectable ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Select')) : null,
    th('Severity'), th('Title'), th('Time'), th('Score', 'num opt'), th('Detector', 'opt'), th('Entity'), th('Status'),
  ].filter(Boolean);
  const first = (mem.pages.length - 1) * PAGE + 1;
  const shown = alerts.length ? `${fmtNum(first)}–${fmtNum(first + alerts.length - 1)} of ${fmtNum(data.total)}` : `0 of ${fmtNum(data.total)}`;
  const prev = h('button', { type: 'button', class: 'secondary', disabled: mem.pages.length <= 1, onclick: () => { mem.pages.pop(); route(); } }, '← Previous page');
  const next = h('button', { type: 'button', class: 'secondary', disabled: !data.next_cursor, onclick: () => { mem.pages.push(data.next_cursor); route(); } }, 'Next page →');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Alert pages' }, prev, h('span', { 'aria-live': 'polite' }, `Alerts ${shown}`), next);

  const selCount = h('span', { 'aria-live': 'polite', id: 'selection-count' });
  const caseTitle = h('input', { type: 'text', name: 'title', maxlength: '200' });
  const openCases = cases && Array.isArray(cases.cases) ? cases.cases.filter((c) => c.status === 'open') : [];
  const caseSel = select('case', [['', 'Choose an open case'], ...openCases.map((c) => [c.id, `${c.id}: ${c.title}`])], '');
  const createBtn = h('button', { type: 'submit' }, 'Create case');
  const addBtn = h('button', { type: 'button', class: 'secondary' }, 'Add to case');
  function updateSelection() {
    const n = mem.selected.size;
    selCount.textContent = n ? `${n} alert${n === 1 ? '' : 's'} selected` : 'Select alerts to group them into a case.';
    createBtn.disabled = n === 0;
    addBtn.disabled = n === 0 || !openCases.length;
  }
  let selectionBar = null;
  if (selectable) {
    selectionBar = h(
      'form',
      { class: 'selection-bar', 'aria-label': 'Group selected alerts into a case' },
      selCount,
      field('New case title', caseTitle),
      createBtn,
      openCases.length ? [field('Existing case', caseSel), addBtn] : null,
      h('button', { type: 'button', class: 'linkish', onclick: () => { mem.selected.clear(); route(); } }, 'Clear selection'),
    );
    selectionBar.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const title = caseTitle.value.trim();
      if (!title) {
        announce('Give the new case a title.', true);
        caseTitle.focus();
        return;
      }
      try {
        const r = await api('POST', '/cases', { title, alert_ids: [...mem.selected] });
        mem.selected.clear();
        mem.flash = `Case ${r.case.id} created.`;
        location.hash = `#/cases/${encodeURIComponent(r.case.id)}`;
      } catch (e) {
        announce(e.message, true);
      }
    });
    addBtn.addEventListener('click', async () => {
      if (!caseSel.value) {
        announce('Choose a case to add the alerts to.', true);
        caseSel.focus();
        return;
      }
      try {
        await api('POST', `/cases/${encodeURIComponent(caseSel.value)}/alerts`, { alert_ids: [...mem.selected] });
        mem.selected.clear();
        mem.flash = 'Alerts added to the case.';
        location.hash = `#/cases/${encodeURIComponent(caseSel.value)}`;
      } catch (e) {
        announce(e.message, true);
      }
    });
    updateSelection();
  }
  const filterText = Object.entries(f).map(([k, v]) => `${k} ${v}`).concat(mem.q ? [`title contains “${mem.q}”`] : []).join(', ');
  setView(
    'Alerts',
    h('div', { class: 'page-head' }, h('h1', null, 'Alerts'), h('span', { class: 'sub' }, filterText ? `Filtered: ${filterText}` : 'All alerts, newest first')),
    form,
    h(
      'section',
      { class: 'panel', 'aria-label': 'Alert list' },
      alerts.length
        ? table(`Alerts ${shown}`, headers, rows, { class: 'alerts', hideCaption: true })
        : h('p', { class: 'muted', id: 'no-alerts' }, 'No alerts match these filters.'),
      pager,
      selectionBar,
    ),
  );
}

// ------------------------------------------------------------------------------------------
// Alert page
// ------------------------------------------------------------------------------------------

async function viewAlert(g, id) {
  const [data, cases, jobs] = await Promise.all([
    api('GET', `/alerts/${encodeURIComponent(id)}`),
    canAct() ? api('GET', '/cases').catch(() => null) : Promise.resolve(null),
    canSeeResponses() ? api('GET', `/responses${query({ alert: id, limit: 100 })}`).catch(() => null) : Promise.resolve(null),
  ]);
  if (g !== generation) return;
  const a = data.alert;
  const st = data.state || { status: 'open' };
  const history = Array.isArray(data.history) ? data.history : [];
  const inCases = Array.isArray(data.cases) ? data.cases : [];
  const ex = a.explanation || {};
  const contributions = Array.isArray(ex.contributions) ? ex.contributions : [];
  const ev = a.evidence || {};

  const facts = h(
    'dl',
    { class: 'facts' },
    h('dt', null, 'Severity'), h('dd', null, sevBadge(a.severity)),
    h('dt', null, 'Score'), h('dd', null, `${a.score} of 100`),
    h('dt', null, 'Entity'), h('dd', null, h('a', { href: `#/alerts${query({ entity: a.entity })}` }, h('span', { class: 'mono' }, a.entity))),
    h('dt', null, 'Time'), h('dd', null, fmtTime(a.time)),
    h('dt', null, 'Detector'), h('dd', null, a.detector),
    h('dt', null, 'MITRE ATT&CK'), h('dd', null, Array.isArray(a.mitre) && a.mitre.length ? h('ul', { class: 'tag-list' }, a.mitre.map((m) => h('li', null, h('code', null, m)))) : 'none'),
    h('dt', null, 'Alert id'), h('dd', null, h('code', null, a.id)),
  );

  let drivers = null;
  if (contributions.length) {
    const chart = contributionChart(a.detector, contributions);
    drivers = h(
      'div',
      { class: 'drivers-block' },
      h('h3', null, 'What drove it'),
      h('ol', { class: 'drivers', id: 'contribution-sentences' }, contributions.map((c) => h('li', null, contributionSentence(a.detector, c, chart.kind)))),
      h('figure', { class: 'contrib-figure', id: 'contribution-chart' }, chart.svg, h('figcaption', { class: 'muted' }, `Bar length: ${chart.kind.unit}.`)),
      chart.data,
    );
  }
  const rules = Array.isArray(ex.rules) && ex.rules.length
    ? [h('h3', null, 'Rules that matched'), h('ul', { class: 'tag-list' }, ex.rules.map((r) => h('li', null, h('code', null, r))))]
    : null;
  const explanation = h(
    'section',
    { class: 'panel span-8', 'aria-labelledby': 'al-why' },
    h('h2', { id: 'al-why' }, 'Why this alert'),
    h('div', { class: 'summary', id: 'explanation-summary' }, (ex.summary || 'The detector gave no explanation.').split(/(?<=\.)\s+(?=[A-Z])/).map((t) => h('p', null, t))),
    drivers,
    rules,
  );

  const events = Array.isArray(ev.events) ? ev.events : [];
  const uids = Array.isArray(ev.uids) ? ev.uids : [];
  const evidence = h(
    'section',
    { class: 'panel span-4', 'aria-labelledby': 'al-ev' },
    h('h2', { id: 'al-ev' }, 'Evidence'),
    events.length ? h('ul', null, events.map((e) => h('li', null, h('code', null, e.source), `, line ${e.line}`))) : h('p', { class: 'muted' }, 'No source lines recorded.'),
    uids.length ? [h('h3', null, 'Connection ids'), h('ul', { class: 'tag-list' }, uids.map((u) => h('li', null, h('code', null, u))))] : null,
  );

  const workflow = h('section', { class: 'panel span-12', 'aria-labelledby': 'al-wf' }, h('h2', { id: 'al-wf' }, 'Handling'));
  workflow.append(h(
    'p',
    { id: 'alert-state' },
    'Status: ', statusBadge(st.status), st.assignee ? ['  Assigned to ', h('strong', null, st.assignee), '.'] : '  Not assigned.',
  ));
  if (canAct()) {
    workflow.append(actionForms(a, st, cases, inCases));
  } else {
    workflow.append(h('p', { class: 'notice' }, `Your role (${ROLE_NAMES[session.role] || session.role}) can read alerts but not change them.`));
  }
  workflow.append(
    h('h3', null, 'History'),
    history.length
      ? h('ol', { class: 'history', id: 'alert-history' }, history.map((e) => h(
        'li',
        null,
        h('div', { class: 'when' }, fmtTime(e.time), ' · ', e.actor),
        h('div', null, h('strong', null, String(e.action || '').replace(/^alert\./, '')), e.assignee ? (String(e.action || '').endsWith('assign') ? ` to ${e.assignee}` : ` (assigned to ${e.assignee})`) : '', e.resolution ? ` as ${String(e.resolution).replace('_', ' ')}` : ''),
        e.comment ? h('div', null, '“', e.comment, '”') : null,
      )))
      : h('p', { class: 'muted', id: 'alert-history' }, 'Nobody has acted on this alert yet.'),
    h('h3', null, 'Cases'),
    inCases.length
      ? h('ul', null, inCases.map((c) => h('li', null, h('a', { href: `#/cases/${encodeURIComponent(c)}` }, c))))
      : h('p', { class: 'muted' }, 'Not part of any case.'),
  );

  setView(
    a.title,
    h('p', null, h('a', { href: '#/alerts' }, '← All alerts')),
    h('div', { class: 'page-head' }, h('h1', { id: 'alert-title' }, a.title)),
    h(
      'div',
      { class: 'grid' },
      h('section', { class: 'panel span-12', 'aria-label': 'Alert facts' }, facts),
      explanation,
      evidence,
      workflow,
      jobs ? alertResponse(jobs) : null,
    ),
  );
}

/** Acknowledge / assign / close / reopen and add-to-case forms for an alert. */
function actionForms(a, st, cases, inCases) {
  const path = (action) => `/alerts/${encodeURIComponent(a.id)}/${action}`;
  async function run(action, body, done, button) {
    button.disabled = true;
    try {
      await api('POST', path(action), body);
      mem.flash = done;
      await route();
    } catch (e) {
      announce(e.status === 409 ? `That is not possible now: ${e.message}` : e.message, true);
      button.disabled = false;
    }
  }
  const forms = [];
  if (st.status === 'open') {
    const comment = h('input', { type: 'text', name: 'comment', maxlength: '4000' });
    const btn = h('button', { type: 'submit', id: 'ack-button' }, 'Acknowledge');
    const f = h('form', { 'aria-labelledby': 'act-ack' }, h('h3', { id: 'act-ack' }, 'Acknowledge'), field('Comment (optional)', comment), btn);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      run('acknowledge', comment.value.trim() ? { comment: comment.value.trim() } : {}, 'Alert acknowledged.', btn);
    });
    forms.push(f);
  }
  if (st.status !== 'closed') {
    const who = h('input', { type: 'text', name: 'assignee', maxlength: '256', value: st.assignee || '', required: true, autocomplete: 'off' });
    const comment = h('input', { type: 'text', name: 'comment', maxlength: '4000' });
    const btn = h('button', { type: 'submit', class: 'secondary' }, 'Assign');
    const f = h('form', { 'aria-labelledby': 'act-assign' }, h('h3', { id: 'act-assign' }, 'Assign'), field('Assignee (user name)', who), field('Comment (optional)', comment), btn);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!who.value.trim()) {
        announce('Enter who the alert goes to.', true);
        who.focus();
        return;
      }
      const body = { assignee: who.value.trim() };
      if (comment.value.trim()) body.comment = comment.value.trim();
      run('assign', body, `Alert assigned to ${body.assignee}.`, btn);
    });
    forms.push(f);

    const reason = h('textarea', { name: 'comment', maxlength: '4000', required: true });
    const res = select('resolution', [['', 'Choose…'], ...RESOLUTIONS], '');
    const cbtn = h('button', { type: 'submit', class: 'danger' }, 'Close alert');
    const cf = h('form', { 'aria-labelledby': 'act-close' }, h('h3', { id: 'act-close' }, 'Close'), field('Resolution', res), field('Comment (required)', reason), cbtn);
    cf.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!res.value) {
        announce('Choose a resolution.', true);
        res.focus();
        return;
      }
      if (!reason.value.trim()) {
        announce('Closing needs a comment.', true);
        reason.focus();
        return;
      }
      run('close', { comment: reason.value.trim(), resolution: res.value }, 'Alert closed.', cbtn);
    });
    forms.push(cf);
  } else {
    const comment = h('input', { type: 'text', name: 'comment', maxlength: '4000' });
    const btn = h('button', { type: 'submit', class: 'secondary' }, 'Reopen');
    const f = h('form', { 'aria-labelledby': 'act-reopen' }, h('h3', { id: 'act-reopen' }, 'Reopen'), field('Comment (optional)', comment), btn);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      run('reopen', comment.value.trim() ? { comment: comment.value.trim() } : {}, 'Alert reopened.', btn);
    });
    forms.push(f);
  }
  // Add to a case: an open case it is not yet in, or a new one.
  const open = cases && Array.isArray(cases.cases) ? cases.cases.filter((c) => c.status === 'open' && !inCases.includes(c.id)) : [];
  const caseSel = select('case', [['', 'A new case'], ...open.map((c) => [c.id, `${c.id}: ${c.title}`])], '');
  const title = h('input', { type: 'text', name: 'title', maxlength: '200', value: a.title });
  const btn = h('button', { type: 'submit', class: 'secondary' }, 'Add to case');
  const f = h('form', { 'aria-labelledby': 'act-case' }, h('h3', { id: 'act-case' }, 'Add to a case'), field('Case', caseSel), field('Title of a new case', title), btn);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    try {
      let caseId = caseSel.value;
      if (caseId) {
        await api('POST', `/cases/${encodeURIComponent(caseId)}/alerts`, { alert_ids: [a.id] });
      } else {
        const r = await api('POST', '/cases', { title: title.value.trim() || a.title, alert_ids: [a.id] });
        caseId = r.case.id;
      }
      mem.flash = `Alert added to case ${caseId}.`;
      location.hash = `#/cases/${encodeURIComponent(caseId)}`;
    } catch (e) {
      announce(e.message, true);
      btn.disabled = false;
    }
  });
  forms.push(f);
  return h('div', { class: 'actions-grid' }, forms);
}

// ------------------------------------------------------------------------------------------
// Devices
// ------------------------------------------------------------------------------------------

async function viewDevices(g) {
  const data = await api('GET', '/devices');
  if (g !== generation) return;
  const all = Array.isArray(data.devices) ? data.devices : [];
  const body = h('tbody');
  const countEl = h('span', { class: 'sub', 'aria-live': 'polite' });
  const cols = [
    ['address', 'Address'],
    ['role', 'Role'],
    ['criticality', 'Criticality'],
    ['label', 'Label'],
    ['protocols', 'Protocols'],
    ['first_seen', 'First seen'],
    ['last_seen', 'Last seen'],
    ['flows', 'Flows'],
  ];
  const ipKey = (addr) => String(addr).split('.').map((x) => x.padStart(3, '0')).join('.');
  const sortVal = (d, key) => {
    if (key === 'criticality') return CRITICALITY_ORDER[d.criticality] ?? 9;
    if (key === 'address') return ipKey(d.address);
    if (key === 'flows') return Number(d.flows) || 0;
    if (key === 'protocols') return (d.server_protocols || []).join(',');
    return String(d[key] ?? '');
  };
  const headRow = h('tr');
  function draw() {
    const { key, dir } = mem.deviceSort;
    const list = all
      .filter((d) => !mem.deviceCrit || d.criticality === mem.deviceCrit)
      .sort((x, y) => {
        const a = sortVal(x, key);
        const b = sortVal(y, key);
        const c = a < b ? -1 : a > b ? 1 : 0;
        return c * dir || ipKey(x.address).localeCompare(ipKey(y.address));
      });
    countEl.textContent = `${list.length} of ${all.length} devices`;
    headRow.replaceChildren(...cols.map(([k, label]) => {
      const active = k === key;
      return h(
        'th',
        { scope: 'col', class: k === 'flows' ? 'num' : null, 'aria-sort': active ? (dir > 0 ? 'ascending' : 'descending') : null },
        h('button', {
          type: 'button',
          class: 'sort',
          onclick: () => {
            mem.deviceSort = { key: k, dir: active ? -dir : 1 };
            draw();
            headRow.querySelector(`[data-key="${k}"]`)?.focus();
          },
          'data-key': k,
        }, label, active ? (dir > 0 ? ' ▲' : ' ▼') : '', h('span', { class: 'visually-hidden' }, active ? '' : ' (sort)')),
      );
    }));
    body.replaceChildren(...list.map((d) => h(
      'tr',
      { class: `row-${d.criticality}` },
      h('td', { class: 'mono' }, h('a', { href: `#/alerts${query({ entity: `device:${d.address}` })}`, title: 'Alerts about this device' }, d.address)),
      h('td', { class: 'role' }, String(d.role || 'unknown').replaceAll('_', ' ')),
      h('td', null, critBadge(d.criticality)),
      h('td', null, d.label || ''),
      h(
        'td',
        { class: 'protocols' },
        (d.server_protocols || []).length ? h('div', null, h('span', { class: 'muted' }, 'serves '), d.server_protocols.join(', ')) : null,
        (d.client_protocols || []).length ? h('div', null, h('span', { class: 'muted' }, 'uses '), d.client_protocols.join(', ')) : null,
      ),
      h('td', { class: 'time' }, fmtTime(d.first_seen)),
      h('td', { class: 'time' }, fmtTime(d.last_seen)),
      h('td', { class: 'num' }, fmtNum(d.flows)),
    )));
  }
  const critSel = select('criticality', [['', 'All'], ['life_sustaining', 'life sustaining'], ['clinical', 'clinical'], ['business', 'business'], ['unknown', 'unknown']], mem.deviceCrit);
  critSel.addEventListener('change', () => {
    mem.deviceCrit = critSel.value;
    draw();
  });
  draw();
  const t = h('table', null, h('caption', { class: 'visually-hidden' }, 'Device inventory'), h('thead', null, headRow), body);
  setView(
    'Devices',
    h('div', { class: 'page-head' }, h('h1', null, 'Devices'), countEl),
    h('form', { class: 'panel filters', 'aria-label': 'Filter devices', onsubmit: (ev) => ev.preventDefault() }, field('Clinical criticality', critSel)),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Device inventory' },
      all.length
        ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Device inventory' }, t)
        : h('p', { class: 'muted' }, 'No devices inventoried yet: ward learns them from traffic.'),
      h('p', { class: 'muted' }, 'Life-sustaining devices (infusion pumps, ventilators, monitors) come first; their rows are tinted. Click an address for its alerts.'),
    ),
  );
}

// ------------------------------------------------------------------------------------------
// Cases
// ------------------------------------------------------------------------------------------

async function viewCases(g) {
  const data = await api('GET', '/cases');
  if (g !== generation) return;
  const cases = Array.isArray(data.cases) ? data.cases : [];
  setView(
    'Cases',
    h('div', { class: 'page-head' }, h('h1', null, 'Cases'), h('span', { class: 'sub' }, `${cases.length} case${cases.length === 1 ? '' : 's'}`)),
    canAct() ? h('p', { class: 'notice' }, 'To open a case, select alerts in the ', h('a', { href: '#/alerts' }, 'alert list'), ' or use “Add to a case” on an alert.') : null,
    h(
      'section',
      { class: 'panel', 'aria-label': 'Case list' },
      cases.length
        ? table('Cases', [th('Case'), th('Title'), th('Status'), th('Alerts', 'num'), th('Highest severity'), th('Created'), th('By'), th('Updated')], cases.map((c) => h(
          'tr',
          null,
          h('td', null, h('a', { href: `#/cases/${encodeURIComponent(c.id)}` }, c.id)),
          h('td', null, c.title),
          h('td', null, statusBadge(c.status)),
          h('td', { class: 'num' }, fmtNum(c.alert_count)),
          h('td', null, c.max_severity ? sevBadge(c.max_severity) : '—'),
          h('td', { class: 'time' }, fmtTime(c.created)),
          h('td', null, c.created_by),
          h('td', { class: 'time' }, fmtTime(c.updated)),
        )), { hideCaption: true })
        : h('p', { class: 'muted' }, 'No cases yet.'),
    ),
  );
}

async function viewCase(g, id) {
  const data = await api('GET', `/cases/${encodeURIComponent(id)}`);
  if (g !== generation) return;
  const c = data.case;
  const alerts = Array.isArray(data.alerts) ? data.alerts : [];
  let closeForm = null;
  if (canAct() && c.status === 'open') {
    const comment = h('textarea', { name: 'comment', maxlength: '4000', required: true });
    const btn = h('button', { type: 'submit', class: 'danger' }, 'Close case');
    closeForm = h('form', { class: 'panel', 'aria-labelledby': 'case-close' }, h('h2', { id: 'case-close' }, 'Close the case'), field('Comment (required)', comment), btn);
    closeForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!comment.value.trim()) {
        announce('Closing a case needs a comment.', true);
        comment.focus();
        return;
      }
      btn.disabled = true;
      try {
        await api('POST', `/cases/${encodeURIComponent(c.id)}/close`, { comment: comment.value.trim() });
        mem.flash = 'Case closed.';
        await route();
      } catch (e) {
        announce(e.message, true);
        btn.disabled = false;
      }
    });
  }
  setView(
    c.title,
    h('p', null, h('a', { href: '#/cases' }, '← All cases')),
    h('div', { class: 'page-head' }, h('h1', null, c.title), statusBadge(c.status)),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Case facts' },
      c.description ? h('p', null, c.description) : null,
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Case'), h('dd', null, h('code', null, c.id)),
        h('dt', null, 'Highest severity'), h('dd', null, c.max_severity ? sevBadge(c.max_severity) : '—'),
        h('dt', null, 'Created'), h('dd', null, `${fmtTime(c.created)} by ${c.created_by}`),
        h('dt', null, 'Updated'), h('dd', null, fmtTime(c.updated)),
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'case-alerts' },
      h('h2', { id: 'case-alerts' }, `Alerts (${alerts.length})`),
      alerts.length
        ? table('Alerts in this case', [th('Time'), th('Severity'), th('Score', 'num'), th('Entity'), th('Title'), th('Status')], alerts.map((a) => h(
          'tr',
          null,
          h('td', { class: 'time' }, fmtTime(a.time)),
          h('td', null, sevBadge(a.severity)),
          h('td', { class: 'num' }, a.score),
          h('td', { class: 'mono' }, a.entity),
          h('td', { class: 'title-cell' }, h('a', { href: alertLink(a) }, a.title)),
          h('td', null, statusBadge(a.state && a.state.status)),
        )), { hideCaption: true })
        : h('p', { class: 'muted' }, 'No alerts in this case.'),
    ),
    closeForm,
  );
}

// ------------------------------------------------------------------------------------------
// Audit trail
// ------------------------------------------------------------------------------------------

async function viewAudit(g) {
  if (!canAudit()) {
    setView(
      'Audit trail',
      h('h1', null, 'Audit trail'),
      h('p', { class: 'notice warn' }, `The audit trail is open to administrators, auditors and privacy officers. Your role (${ROLE_NAMES[session.role] || session.role}) may not read it.`),
    );
    return;
  }
  const data = await api('GET', `/audit${query({ from_seq: mem.auditFrom, limit: PAGE })}`);
  if (g !== generation) return;
  const entries = Array.isArray(data.entries) ? data.entries : [];
  const go = (from, push) => {
    if (push) mem.auditStack.push(mem.auditFrom);
    mem.auditFrom = from;
    route();
  };
  const oldest = h('button', { type: 'button', class: 'secondary', disabled: mem.auditFrom <= 1, onclick: () => { mem.auditStack = []; go(1, false); } }, '⇤ Oldest');
  const prev = h('button', { type: 'button', class: 'secondary', disabled: !mem.auditStack.length, onclick: () => go(mem.auditStack.pop() || 1, false) }, '← Older');
  const next = h('button', { type: 'button', class: 'secondary', disabled: !data.next, onclick: () => go(data.next, true) }, 'Newer →');
  const newest = h('button', {
    type: 'button',
    class: 'secondary',
    disabled: !data.next,
    onclick: async () => {
      // Follow the pages to the end (the API lists oldest first).
      let from = mem.auditFrom;
      try {
        announce('Finding the newest entries…');
        for (let i = 0; i < 10000; i += 1) {
          const page = await api('GET', `/audit${query({ from_seq: from, limit: 1000 })}`);
          if (!page.next) break;
          from = page.next;
        }
        const last = Math.max(1, from);
        mem.auditStack.push(mem.auditFrom);
        mem.auditFrom = last;
        route();
      } catch (e) {
        announce(e.message, true);
      }
    },
  }, 'Newest ⇥');
  const first = entries.length ? entries[0].seq : mem.auditFrom;
  const last = entries.length ? entries[entries.length - 1].seq : mem.auditFrom;
  setView(
    'Audit trail',
    h('div', { class: 'page-head' }, h('h1', null, 'Audit trail'), h('span', { class: 'sub' }, 'Every sign-in and change, hash-chained; oldest first')),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Audit entries' },
      entries.length
        ? table(`Audit entries ${first} to ${last}`, [th('#', 'num'), th('Time'), th('Actor'), th('Action'), th('Target'), th('Details')], entries.map((e) => h(
          'tr',
          { 'data-action': e.action, 'data-target': e.target },
          h('td', { class: 'num' }, e.seq),
          h('td', { class: 'time' }, fmtTime(e.time)),
          h('td', null, e.actor),
          h('td', { class: 'nowrap' }, h('code', null, e.action)),
          h('td', { class: 'mono' }, e.target),
          h('td', null, e.details && Object.keys(e.details).length ? h('pre', { class: 'details' }, JSON.stringify(e.details)) : ''),
        )), { hideCaption: true })
        : h('p', { class: 'muted' }, 'No entries.'),
      h('nav', { class: 'pager', 'aria-label': 'Audit pages' }, oldest, prev, h('span', null, entries.length ? `Entries ${first}–${last}` : ''), next, newest),
    ),
  );
}

// ------------------------------------------------------------------------------------------
// Privacy: EHR-snooping cases by user (ward ehr detect --store)
// ------------------------------------------------------------------------------------------

function privacyLink(userId) {
  return `#/privacy/${encodeURIComponent(userId)}`;
}

function fmtScore(x) {
  return typeof x === 'number' ? x.toFixed(2) : '—';
}

function signalList(signals) {
  const list = Array.isArray(signals) ? signals : [];
  if (!list.length) return '—';
  return h('ul', { class: 'tag-list signals' }, list.map((x) => h('li', null, h('code', null, x))));
}

function namesNotice(data) {
  return data.names
    ? h('p', { class: 'notice warn' }, 'Names are shown because you are a privacy officer. This view has been recorded in the audit trail.')
    : h('p', { class: 'notice' }, 'Users and patients are shown by id. Only privacy officers see names, and each such view is audited.');
}

async function viewPrivacy(g) {
  if (!PRIVACY_ROLES.has(session.role)) {
    setView(
      'Privacy',
      h('h1', null, 'Privacy'),
      h('p', { class: 'notice warn' }, `EHR-access cases are open to administrators, auditors and privacy officers. Your role (${ROLE_NAMES[session.role] || session.role}) may not read them.`),
    );
    return;
  }
  const data = await api('GET', `/privacy/users${query({ limit: PAGE, offset: mem.privacyOffset || null })}`);
  if (g !== generation) return;
  const users = Array.isArray(data.users) ? data.users : [];
  const go = (offset) => {
    mem.privacyOffset = Math.max(0, offset);
    route();
  };
  const prev = h('button', { type: 'button', class: 'secondary', disabled: mem.privacyOffset <= 0, onclick: () => go(mem.privacyOffset - PAGE) }, '← Previous page');
  const next = h('button', { type: 'button', class: 'secondary', disabled: data.next_offset === null || data.next_offset === undefined, onclick: () => go(data.next_offset) }, 'Next page →');
  const headers = [th('User'), data.names ? th('Name') : null, data.names ? th('Role and department') : null, th('Cases', 'num'), th('Flagged accesses', 'num'), th('Patients', 'num'), th('Highest score', 'num'), th('Last access'), th('Signals')].filter(Boolean);
  setView(
    'Privacy',
    h('div', { class: 'page-head' }, h('h1', null, 'Privacy: record access by user'), h('span', { class: 'sub' }, `${fmtNum(data.total)} user${data.total === 1 ? '' : 's'} with cases, highest score first`)),
    namesNotice(data),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Users with cases' },
      users.length
        ? table('Users with EHR-access cases', headers, users.map((u) => h(
          'tr',
          { 'data-user': u.user_id, 'data-named': data.names && u.name ? 'yes' : null },
          h('td', { class: 'nowrap' }, h('a', { href: privacyLink(u.user_id) }, h('code', null, u.user_id))),
          data.names ? h('td', null, u.name || '—') : null,
          data.names ? h('td', null, [u.role, u.department].filter(Boolean).join(', ') || '—') : null,
          h('td', { class: 'num' }, fmtNum(u.cases)),
          h('td', { class: 'num' }, fmtNum(u.accesses)),
          h('td', { class: 'num' }, fmtNum(u.patients)),
          h('td', { class: 'num' }, fmtScore(u.max_score)),
          h('td', { class: 'time' }, fmtTime(u.last)),
          h('td', null, signalList(u.signals)),
        )), { hideCaption: true })
        : h('p', { class: 'muted' }, 'No EHR-access cases are stored. Run ward ehr detect DIR --store with this store.'),
      h('nav', { class: 'pager', 'aria-label': 'User pages' }, prev, next),
    ),
  );
}

async function viewPrivacyUser(g, userId) {
  const data = await api('GET', `/privacy/users/${encodeURIComponent(userId)}`);
  if (g !== generation) return;
  const user = data.user || {};
  const cases = Array.isArray(data.cases) ? data.cases : [];
  const accesses = Array.isArray(data.accesses) ? data.accesses : [];
  const who = data.names && user.name ? `${user.name} (${user.user_id})` : `user ${user.user_id}`;
  const sections = cases.map((c, i) => {
    const rows = accesses.filter((a) => a.case === c.id);
    const headId = nextId('case');
    return h(
      'section',
      { class: 'panel', 'aria-labelledby': headId, 'data-case': c.id },
      h('h2', { id: headId }, `Case ${i + 1}: ${fmtTime(c.first)} to ${fmtTime(c.last)}`),
      h('p', null, c.summary),
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'Score'), h('dd', null, fmtScore(c.score)),
        h('dt', null, 'Patients'), h('dd', null, fmtNum(c.patients)),
        h('dt', null, 'Signals'), h('dd', null, signalList(c.signals)),
        h('dt', null, 'Alert'), h('dd', null, h('a', { href: `#/alerts/${encodeURIComponent(c.id)}` }, 'Open the alert')),
      ),
      rows.length
        ? table(`Flagged accesses of case ${i + 1}`, [th('Time'), th('Patient'), th('Action'), th('Explanation'), th('Score', 'num'), th('Reasons')], rows.map((a) => h(
          'tr',
          { 'data-row': a.row },
          h('td', { class: 'time' }, fmtTime(a.time)),
          h('td', { class: 'nowrap' }, h('code', null, a.patient_id), data.names && a.patient_name ? h('div', null, a.patient_name) : null),
          h('td', null, String(a.action || '').replace('_', ' ')),
          h('td', null, String(a.link || '').replace('_', ' ')),
          h('td', { class: 'num' }, fmtScore(a.score)),
          h('td', null, h('ul', { class: 'reasons' }, (Array.isArray(a.reasons) ? a.reasons : []).map((r) => h('li', null, r.text)))),
        )))
        : h('p', { class: 'muted' }, data.truncated ? 'Accesses of this case are beyond the shown limit.' : 'No flagged accesses stored for this case.'),
    );
  });
  setView(
    `Privacy: ${user.user_id}`,
    h('p', null, h('a', { href: '#/privacy' }, '← All users')),
    h('div', { class: 'page-head' }, h('h1', null, `Record access by ${who}`), h('span', { class: 'sub' }, `${cases.length} case${cases.length === 1 ? '' : 's'}, ${accesses.length} flagged access${accesses.length === 1 ? '' : 'es'}, oldest first`)),
    namesNotice(data),
    data.names && (user.role || user.department) ? h('p', null, [user.role, user.department].filter(Boolean).join(', ')) : null,
    data.truncated ? h('p', { class: 'notice warn' }, 'Only the first flagged accesses are shown.') : null,
    sections,
  );
}

// ------------------------------------------------------------------------------------------
// Responses: the response queue (approvals first, then what was done)
// ------------------------------------------------------------------------------------------

/** Milliseconds since the epoch of an RFC 3339 time with up to microseconds, or NaN. */
function parseTime(iso) {
  if (typeof iso !== 'string') return NaN;
  const m = iso.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$/);
  if (!m) return NaN;
  return Date.parse(`${m[1]}${m[2] ? m[2].slice(0, 4) : ''}Z`);
}

/** `in 23 minutes` / `in 2 hours 5 minutes` / `expired`, from the server's clock. */
function timeLeft(expires, now) {
  const ms = parseTime(expires) - parseTime(now);
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms <= 0) return 'expired: nothing will be done';
  const min = Math.ceil(ms / 60000);
  if (min < 60) return `${min} minute${min === 1 ? '' : 's'} left`;
  const hrs = Math.floor(min / 60);
  const rest = min % 60;
  return `${hrs} hour${hrs === 1 ? '' : 's'}${rest ? ` ${rest} minute${rest === 1 ? '' : 's'}` : ''} left`;
}

function jobRoles(j) {
  const roles = j && j.approval && Array.isArray(j.approval.roles) ? j.approval.roles : [];
  return roles.filter((r) => typeof r === 'string');
}

function roleList(roles) {
  const names = roles.map((r) => ROLE_NAMES[r] || r);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

function jobBadge(state) {
  const known = JOB_STATES.includes(state) ? state : 'failed';
  return h('span', { class: `status-badge job-${known}` }, String(state || 'unknown').replace('_', ' '));
}

function clinicalBadge(j) {
  return j.approval && j.approval.clinical === true
    ? h('span', { class: 'crit crit-life_sustaining', title: 'Acts on a life-sustaining or life-supporting device' }, 'clinical safety')
    : null;
}

/** One line on what a job's result says. */
function resultSummary(j) {
  const r = j.result;
  if (r === null || r === undefined) {
    return j.state === 'rejected' || j.state === 'expired' ? 'Nothing was done.' : '—';
  }
  if (typeof r === 'string') return r;
  for (const k of ['summary', 'error', 'reason', 'skipped', 'message']) {
    if (typeof r[k] === 'string' && r[k]) return r[k];
  }
  const text = JSON.stringify(r);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

/** Who decided, with the comment, or null. */
function decisionText(j) {
  const d = j.approval && j.approval.decision;
  if (!d || typeof d !== 'object') return null;
  const verb = j.state === 'rejected' ? 'Rejected' : 'Approved';
  return [`${verb} by ${d.by} (${ROLE_NAMES[d.role] || d.role}), ${fmtTime(d.time)}`, d.comment ? h('div', null, '“', d.comment, '”') : null];
}

function jobName(j) {
  return `${j.playbook} · ${j.step}`;
}

/** One job waiting for an approval, with the decision form when the user may decide. */
function pendingJob(j, now) {
  const roles = jobRoles(j);
  const headId = nextId('job');
  const a = j.approval || {};
  const panel = h(
    'section',
    { class: 'panel approval-card', 'aria-labelledby': headId, 'data-job': j.id },
    h('h3', { id: headId }, jobName(j), ' ', clinicalBadge(j)),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Action'), h('dd', null, h('code', null, j.kind), ` (${j.effect})`),
      h('dt', null, 'Entity'), h('dd', null, h('span', { class: 'mono' }, j.entity)),
      h('dt', null, 'Alert'), h('dd', null, h('a', { href: `#/alerts/${encodeURIComponent(j.alert_id)}` }, h('code', null, j.alert_id))),
      h('dt', null, 'Why it waits'), h('dd', null, a.reason || 'The playbook asks for an approval.'),
      h('dt', null, 'Who may decide'), h('dd', null, roleList(roles) || 'nobody'),
      h('dt', null, 'Time left'), h('dd', { class: 'time-left' }, timeLeft(j.expires_at, now), j.expires_at ? ` (until ${fmtTime(j.expires_at)})` : ''),
      h('dt', null, 'If nobody decides'), h('dd', null, a.proceed_on_timeout && !a.clinical ? 'It runs when the time is up.' : 'Nothing is done.'),
    ),
  );
  if (!roles.includes(session.role)) {
    panel.append(h('p', { class: 'notice' }, `Only a ${roleList(roles) || 'configured role'} can approve or reject this step; your role is ${ROLE_NAMES[session.role] || session.role}.`));
    return panel;
  }
  const comment = h('textarea', { name: 'comment', maxlength: '1000', rows: '2' });
  const approve = h('button', { type: 'submit', value: 'approve', class: 'approve' }, 'Approve');
  const reject = h('button', { type: 'submit', value: 'reject', class: 'danger reject' }, 'Reject');
  const form = h(
    'form',
    { class: 'decide', 'aria-label': `Decide on job ${j.id}` },
    field('Comment (kept in the audit trail)', comment, 'At most 1000 characters. Say why, especially when rejecting.'),
    h('div', { class: 'row' }, approve, reject),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const verb = ev.submitter && ev.submitter.value === 'reject' ? 'reject' : 'approve';
    if (new TextEncoder().encode(comment.value).length > 1000) {
      announce('The comment is longer than 1000 bytes.', true);
      comment.focus();
      return;
    }
    approve.disabled = true;
    reject.disabled = true;
    try {
      const r = await api('POST', `/responses/${encodeURIComponent(j.id)}/${verb}`, { comment: comment.value.trim() });
      mem.flash = verb === 'approve'
        ? `Job ${j.id} approved: it is now ${String(r.job.state).replace('_', ' ')} and will run.`
        : `Job ${j.id} rejected: nothing will be done.`;
      await route();
    } catch (e) {
      if (e.status === 409) {
        mem.flash = '';
        await route();
        announce(`Not recorded: ${e.message}`, true);
      } else {
        announce(e.message, true);
        approve.disabled = false;
        reject.disabled = false;
      }
    }
  });
  panel.append(form);
  return panel;
}

function jobRows(jobs, withAlert) {
  return jobs.map((j) => h(
    'tr',
    { 'data-job': j.id, 'data-state': j.state },
    h('td', { class: 'num' }, j.id),
    h('td', { class: 'nowrap' }, jobBadge(j.state), ' ', clinicalBadge(j)),
    h('td', null, jobName(j)),
    h('td', { class: 'nowrap' }, h('code', null, j.kind), ` (${j.effect})`),
    h('td', { class: 'mono' }, j.entity),
    withAlert ? h('td', null, h('a', { href: `#/alerts/${encodeURIComponent(j.alert_id)}` }, h('code', null, j.alert_id))) : null,
    h('td', { class: 'num' }, `${j.attempts} of ${j.max_attempts}`),
    h('td', null, resultSummary(j), decisionText(j) ? h('div', { class: 'muted' }, decisionText(j)) : null),
    h('td', { class: 'time' }, fmtTime(j.updated)),
  ));
}

function jobHeaders(withAlert) {
  return [th('#', 'num'), th('State'), th('Playbook · step'), th('Action'), th('Entity'), withAlert ? th('Alert') : null, th('Attempts', 'num'), th('Result'), th('Updated')].filter(Boolean);
}

async function viewResponses(g) {
  if (!canSeeResponses()) {
    setView(
      'Responses',
      h('h1', null, 'Responses'),
      h('p', { class: 'notice warn' }, `The response queue is open to administrators, analysts, auditors, clinical engineers and privacy officers. Your role (${ROLE_NAMES[session.role] || session.role}) may not read it.`),
    );
    return;
  }
  const before = mem.jobPages[mem.jobPages.length - 1];
  const [waiting, done] = await Promise.all([
    api('GET', `/responses${query({ state: 'awaiting_approval', limit: 200 })}`),
    api('GET', `/responses${query({ state: DONE_STATES.join(','), limit: PAGE, before })}`),
  ]);
  if (g !== generation) return;
  const pending = Array.isArray(waiting.jobs) ? waiting.jobs : [];
  const history = Array.isArray(done.jobs) ? done.jobs : [];
  const mine = pending.filter((j) => jobRoles(j).includes(session.role)).length;
  const prev = h('button', { type: 'button', class: 'secondary', disabled: mem.jobPages.length <= 1, onclick: () => { mem.jobPages.pop(); route(); } }, '← Newer');
  const next = h('button', { type: 'button', class: 'secondary', disabled: !done.next_before, onclick: () => { mem.jobPages.push(done.next_before); route(); } }, 'Older →');
  setView(
    'Responses',
    h('div', { class: 'page-head' }, h('h1', null, 'Responses'), h('span', { class: 'sub' }, 'What the response playbooks want to do, and what they did')),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'resp-pending', id: 'pending-approvals' },
      h('h2', { id: 'resp-pending' }, `Waiting for an approval (${pending.length})`),
      pending.length
        ? [
          h('p', { class: 'muted' }, mine ? `You may decide on ${mine} of them. A step that would act on a life-sustaining or life-supporting device needs a clinical role, whatever the playbook says.` : 'None of them is yours to decide.'),
          pending.map((j) => pendingJob(j, waiting.now)),
        ]
        : h('p', { class: 'muted' }, 'Nothing is waiting for an approval.'),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'resp-history', id: 'response-history' },
      h('h2', { id: 'resp-history' }, 'History'),
      history.length
        ? table('Response jobs, newest first', jobHeaders(true), jobRows(history, true), { hideCaption: true })
        : h('p', { class: 'muted' }, 'No response has run yet.'),
      h('nav', { class: 'pager', 'aria-label': 'Response pages' }, prev, next),
    ),
  );
}

/** The "Response" section of an alert page: the jobs that answer it. */
function alertResponse(data) {
  const jobs = Array.isArray(data.jobs) ? data.jobs : [];
  const waiting = jobs.filter((j) => j.state === 'awaiting_approval').length;
  return h(
    'section',
    { class: 'panel span-12', 'aria-labelledby': 'al-resp', id: 'alert-response' },
    h('h2', { id: 'al-resp' }, 'Response'),
    jobs.length
      ? [
        waiting ? h('p', { class: 'notice warn' }, `${waiting} step${waiting === 1 ? '' : 's'} wait${waiting === 1 ? 's' : ''} for an approval: `, h('a', { href: '#/responses' }, 'decide on the Responses page'), '.') : null,
        table('Response jobs of this alert', jobHeaders(false), jobRows(jobs, false), { hideCaption: true }),
      ]
      : h('p', { class: 'muted' }, 'No response playbook acted on this alert.'),
  );
}

// ------------------------------------------------------------------------------------------
// Start
// ------------------------------------------------------------------------------------------

async function start() {
  $('#sign-out').addEventListener('click', signOut);
  $('#nav-toggle').addEventListener('click', () => {
    const nav = $('#primary-nav');
    const open = !nav.classList.contains('open');
    nav.classList.toggle('open', open);
    $('#nav-toggle').setAttribute('aria-expanded', String(open));
  });
  $('#skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    $('#main').focus();
  });
  window.addEventListener('hashchange', () => {
    if (location.hash.startsWith('#/') || location.hash === '') route();
  });
  try {
    const me = await api('GET', '/auth/me');
    if (!me.csrf_token) throw new ApiError(401, 'unauthorized', 'no session');
    setSignedIn({ user: me.user, role: me.role, csrf: me.csrf_token });
    route();
  } catch (e) {
    showSignIn(e.status === 0 ? e.message : '');
  }
}

start();
