/**
 * The status page for administrators, rendered on the server (pure functions from data to HTML,
 * every value escaped): jobs with their state, reason, result and timings, links that open a
 * study in the viewer, recent intake events, readiness, and a form to analyse a study by UID.
 * Its one small script (STATUS_PAGE_SCRIPT) sends retries and manual triggers with the session's
 * CSRF token; everything else works without it.
 */
import type { Job, JobState, NodeRecord, RecordedIntakeEvent } from '../jobs/jobStore';
import { JOB_STATES } from '../jobs/jobStore';
import type { ReadinessReport } from './readiness';

export function escapeHtml(value: unknown): string {
  let text: string;
  if (value === undefined || value === null) text = '';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else text = JSON.stringify(value) ?? '';
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Tagged template that escapes every interpolated value unless it is already `Html`. */
class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((v, n) => {
    const text = Array.isArray(v) ? v.map((x) => (x instanceof Html ? x.text : escapeHtml(x))).join('') : v instanceof Html ? v.text : escapeHtml(v);
    out += text + strings[n + 1];
  });
  return new Html(out);
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** "2025-01-02 03:04:05Z" */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function shortUid(uid: string): string {
  return uid.length > 28 ? `${uid.slice(0, 12)}…${uid.slice(-12)}` : uid;
}

interface OutcomeView {
  label?: string;
  probabilityHigh?: number;
  sameAsJobId?: number;
  preparedAhead?: { used?: boolean; preparedAt?: string; reason?: string };
  classifier?: { name?: string; version?: string };
  results?: { storedToPacs?: boolean; supersededBy?: SupersedeView; supersedes?: SupersedeView & { instances?: string[]; deleted?: string[] } };
}

/** outcome.results.supersededBy (on the earlier job) / supersedes (on the later one): pipeline/supersede.ts. */
interface SupersedeView {
  jobId?: number;
  srSopInstanceUID?: string;
  action?: 'kept' | 'deleted';
  at?: string;
}

/** The superseded mark of a job's result: which job's result stands instead, and whether the old objects were deleted. */
function supersededMark(o: OutcomeView): Html {
  const by = o.results?.supersededBy;
  if (!by) return html``;
  const title = `superseded by the result of job ${by.jobId ?? '?'} (SR ${by.srSopInstanceUID ?? '?'})${by.action === 'deleted' ? '; deleted from the PACS' : '; still in the PACS'}`;
  return html` <span class="superseded" title="${title}">superseded${by.jobId !== undefined ? html` by <a href="/jobs/${by.jobId}">job ${by.jobId}</a>` : ''}${by.action === 'deleted' ? ' (deleted)' : ''}</span>`;
}

function outcomeOf(job: Job): OutcomeView | undefined {
  return job.outcome && typeof job.outcome === 'object' && !Array.isArray(job.outcome) ? job.outcome : undefined;
}

function resultCell(job: Job): Html {
  const o = outcomeOf(job);
  if (!o?.label) return html``;
  const p = typeof o.probabilityHigh === 'number' ? ` (P(high) ${o.probabilityHigh.toFixed(2)})` : '';
  return html`<span class="result result-${o.label}">${o.label === 'high' ? 'High' : 'Low'} TSR${p}</span>${o.sameAsJobId ? html` <small>as job ${o.sameAsJobId}</small>` : html``}${
    o.preparedAhead?.used ? html` <small class="prepared" title="analysed before StableStudy (${o.preparedAhead.preparedAt ?? ''}); only stored after">prepared ahead</small>` : html``
  }${supersededMark(o)}`;
}

function stateBadge(state: JobState): Html {
  return html`<span class="state state-${state}">${state}</span>`;
}

function timingsTitle(job: Job): string {
  const t = job.timingsMs ?? {};
  return Object.entries(t)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${formatDuration(v)}`)
    .join(', ');
}

export interface StatusPageData {
  version: string;
  counts: Record<JobState, number>;
  readiness: ReadinessReport;
  jobs: Job[];
  filter?: JobState;
  nextBeforeId?: number;
  events: RecordedIntakeEvent[];
  csrfToken: string;
  viewerUrl: (studyInstanceUID: string) => string | undefined;
  changeCursor: number;
  feedMode: string;
  models: Array<{ role: string; name: string; version: string }>;
  /** Set while the worker waits for the PACS to answer. */
  waitingFor?: { name: string; since: string; message: string };
  /** The nodes sharing the job store (JobStore.listNodes); the section is shown when given. */
  nodes?: NodeRecord[];
  /** This node's id, marked in the nodes section. */
  nodeId?: string;
}

function nodeState(node: NodeRecord): string {
  if (node.stoppedAt) return `stopped ${formatTime(node.stoppedAt)}`;
  return node.live ? 'live' : 'not heard from';
}

/** Every node on the job store: who follows the change feed, and what each one runs. */
function nodesView(nodes: NodeRecord[] | undefined, self: string | undefined): Html {
  if (!nodes) return html``;
  const row = (n: NodeRecord): Html => html`<tr data-node-id="${n.nodeId}" class="${n.live ? 'live' : 'silent'}">
  <td>${n.nodeId}${n.nodeId === self ? html` <small>(this node)</small>` : ''}</td>
  <td>${n.host}</td>
  <td>${n.version}</td>
  <td>${nodeState(n)}</td>
  <td>${n.followsFeed ? html`<b class="feed-follower">follows the feed</b>` : ''}</td>
  <td>${n.runningJobIds.map((id, i) => html`${i > 0 ? ', ' : ''}<a href="/jobs/${id}">${id}</a>`)}</td>
  <td class="time">${formatTime(n.startedAt)}</td>
  <td class="time">${formatTime(n.lastHeartbeatAt)}</td>
</tr>`;
  return html`<section aria-label="nodes">
  <h2>Nodes</h2>
  <table class="nodes">
    <thead><tr><th>Node</th><th>Host</th><th>Version</th><th>State</th><th>Change feed</th><th>Running jobs</th><th>Started</th><th>Last heartbeat</th></tr></thead>
    <tbody>${nodes.length > 0 ? nodes.map(row) : html`<tr><td colspan="8" class="empty">No node registered.</td></tr>`}</tbody>
  </table>
</section>`;
}

function waitingView(waiting: StatusPageData['waitingFor']): Html {
  if (!waiting) return html``;
  return html`<section class="waiting" role="status" aria-label="waiting">
  <h2>Waiting for ${waiting.name} since ${formatTime(waiting.since)}</h2>
  <p>It does not answer: ${waiting.message}. Jobs stay queued and spend no attempt; the node asks again every few seconds and resumes by itself when it answers.</p>
</section>`;
}

function layout(title: string, csrfToken: string | undefined, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${csrfToken ? html`<meta name="csrf-token" content="${csrfToken}">` : html``}
<title>${title}</title>
<link rel="stylesheet" href="/assets/status.css">
<script src="/assets/status.js" defer></script>
</head>
<body>
${body}
<footer>tsr-node · research use only, not for diagnostic use</footer>
</body>
</html>
`.text;
}

function header(version: string, csrfToken: string): Html {
  return html`<header>
  <h1><a href="/">tsr-node</a> <small>${version}</small></h1>
  <form method="post" action="/logout" class="logout"><input type="hidden" name="csrf" value="${csrfToken}"><button type="submit">Log out</button></form>
</header>`;
}

function readinessView(r: ReadinessReport): Html {
  const item = (name: string, c: { ok: boolean; detail: string }): Html => html`<li class="${c.ok ? 'ok' : 'bad'}" title="${c.detail}"><b>${name}</b> ${c.ok ? 'ok' : 'failing'}<span class="detail">${c.detail}</span></li>`;
  return html`<section class="readiness ${r.ready ? 'ready' : 'not-ready'}" aria-label="readiness">
  <h2>${r.ready ? 'Ready' : 'Not ready'}</h2>
  <ul>${[item('Orthanc', r.checks.orthanc), item('Models', r.checks.models), item('Job store', r.checks.store)]}</ul>
</section>`;
}

function jobRow(job: Job, viewerUrl: StatusPageData['viewerUrl']): Html {
  const viewer = viewerUrl(job.studyInstanceUID);
  const actionable = job.state === 'done' || job.state === 'skipped' || job.state === 'failed';
  return html`<tr data-job-id="${job.id}" data-state="${job.state}"${outcomeOf(job)?.results?.supersededBy ? html` class="superseded-result"` : ''}>
  <td><a href="/jobs/${job.id}">${job.id}</a></td>
  <td class="uid" title="${job.studyInstanceUID}">${viewer ? html`<a href="${viewer}" target="_blank" rel="noopener" class="viewer-link">${shortUid(job.studyInstanceUID)}</a>` : shortUid(job.studyInstanceUID)}</td>
  <td>${stateBadge(job.state)}</td>
  <td>${resultCell(job)}</td>
  <td class="reason">${job.reason ? html`<code>${job.reason.code}</code> ${job.reason.message}` : ''}</td>
  <td class="num">${job.attempts}</td>
  <td class="num" title="${timingsTitle(job)}">${formatDuration(job.timingsMs?.total)}</td>
  <td>${job.source}</td>
  <td class="time">${formatTime(job.createdAt)}</td>
  <td class="time">${formatTime(job.finishedAt)}</td>
  <td>${actionable ? html`<button type="button" data-retry="${job.id}">${job.state === 'done' ? 'Re-run' : 'Retry'}</button>` : ''}</td>
</tr>`;
}

export function renderStatusPage(d: StatusPageData): string {
  const total = JOB_STATES.reduce((n, s) => n + d.counts[s], 0);
  const filterLink = (state: JobState | undefined, label: string, n: number): Html =>
    html`<a href="${state ? `/?state=${state}` : '/'}" class="${d.filter === state ? 'current' : ''}">${label} <span class="count">${n}</span></a>`;
  const older = d.nextBeforeId !== undefined ? `/?${new URLSearchParams({ ...(d.filter ? { state: d.filter } : {}), before: String(d.nextBeforeId) }).toString()}` : undefined;
  const body = html`${header(d.version, d.csrfToken)}
<main>
${readinessView(d.readiness)}
${waitingView(d.waitingFor)}
<section class="facts">
  <span>Feed: <b>${d.feedMode}</b>, cursor ${d.changeCursor}</span>
  ${d.models.map((m) => html`<span>${m.role}: <b>${m.name}</b> ${m.version}</span>`)}
</section>
<section>
  <h2>Jobs</h2>
  <nav class="filters" aria-label="filter by state">${filterLink(undefined, 'all', total)}${JOB_STATES.map((s) => filterLink(s, s, d.counts[s]))}</nav>
  <table class="jobs">
    <thead><tr><th>Job</th><th>Study</th><th>State</th><th>Result</th><th>Reason</th><th>Attempts</th><th>Time</th><th>Source</th><th>Created</th><th>Finished</th><th></th></tr></thead>
    <tbody>${d.jobs.length > 0 ? d.jobs.map((j) => jobRow(j, d.viewerUrl)) : html`<tr><td colspan="11" class="empty">No jobs${d.filter ? html` in state ${d.filter}` : ''}.</td></tr>`}</tbody>
  </table>
  ${older ? html`<p><a href="${older}">Older jobs →</a></p>` : ''}
</section>
${nodesView(d.nodes, d.nodeId)}
<section>
  <h2>Analyse a study</h2>
  <form id="analyze-form" class="analyze"><label>StudyInstanceUID <input name="uid" required pattern="[0-9.]{1,64}" size="64" autocomplete="off"></label> <button type="submit">Analyse</button> <output id="analyze-result"></output></form>
</section>
<section>
  <h2>Recent intake</h2>
  <table class="events">
    <thead><tr><th>Time</th><th>Source</th><th>Outcome</th><th>Study</th><th>Job</th><th>Message</th></tr></thead>
    <tbody>${d.events.map(
      (e) => html`<tr><td class="time">${formatTime(e.at)}</td><td>${e.source}</td><td>${e.outcome}</td><td class="uid" title="${e.studyInstanceUID ?? e.orthancStudyId ?? ''}">${shortUid(e.studyInstanceUID ?? e.orthancStudyId ?? '')}</td><td>${e.jobId !== undefined ? html`<a href="/jobs/${e.jobId}">${e.jobId}</a>` : ''}</td><td>${e.message ?? ''}</td></tr>`,
    )}</tbody>
  </table>
</section>
</main>`;
  return layout('tsr-node status', d.csrfToken, body);
}

interface SelectionView {
  analyzable?: boolean;
  reasonCode?: string;
  reason?: string;
  arterial?: { seriesInstanceUID: string; seriesDescription?: string; score?: number; why?: string[] } | null;
  venous?: { seriesInstanceUID: string; seriesDescription?: string; score?: number; why?: string[] } | null;
  candidates?: Array<{
    seriesInstanceUID: string;
    seriesNumber?: number;
    seriesDescription?: string;
    modality?: string;
    instanceCount?: number;
    phase?: string;
    eligible?: boolean;
    failureCode?: string;
    score?: number;
    details?: { passed?: Array<{ rule: string; detail: string }>; failed?: Array<{ rule: string; detail: string }> };
  }>;
}

export function renderJobPage(job: Job, o: { version: string; csrfToken: string; viewerUrl?: string }): string {
  const sel = (job.selection ?? undefined) as SelectionView | undefined;
  const outcome = outcomeOf(job);
  const chosen = (phase: 'arterial' | 'venous'): Html => {
    const c = sel?.[phase];
    if (!c) return html`<dd>none</dd>`;
    return html`<dd><b>${c.seriesDescription || '(no description)'}</b> <span class="uid">${c.seriesInstanceUID}</span> score ${c.score ?? ''}<ul>${(c.why ?? []).map((w) => html`<li>${w}</li>`)}</ul></dd>`;
  };
  const body = html`${header(o.version, o.csrfToken)}
<main>
<h2>Job ${job.id} ${stateBadge(job.state)} ${resultCell(job)}</h2>
<dl class="job">
  <dt>Study</dt><dd class="uid">${job.studyInstanceUID} ${o.viewerUrl ? html`<a href="${o.viewerUrl}" target="_blank" rel="noopener" class="viewer-link">open in viewer</a>` : ''}</dd>
  <dt>Source</dt><dd>${job.source}${job.orthancStudyId ? html` (Orthanc study ${job.orthancStudyId})` : ''}</dd>
  <dt>Attempts</dt><dd>${job.attempts}${job.notBefore && job.state === 'queued' ? html`, next not before ${formatTime(job.notBefore)}` : ''}</dd>
  <dt>Created</dt><dd>${formatTime(job.createdAt)}</dd>
  <dt>Started</dt><dd>${formatTime(job.startedAt)}</dd>
  <dt>Finished</dt><dd>${formatTime(job.finishedAt)}</dd>
  ${job.reason ? html`<dt>Reason</dt><dd><code>${job.reason.code}</code> ${job.reason.message}</dd>` : ''}
  ${outcome?.classifier ? html`<dt>Model</dt><dd>${outcome.classifier.name} ${outcome.classifier.version}</dd>` : ''}
  ${job.resultUids && job.resultUids.length > 0 ? html`<dt>Results in the PACS</dt><dd>${job.resultUids.map((u) => html`<div class="uid">${u}</div>`)}</dd>` : ''}
  ${outcome?.results?.supersededBy ? html`<dt>Superseded</dt><dd>by the result of <a href="/jobs/${outcome.results.supersededBy.jobId ?? ''}">job ${outcome.results.supersededBy.jobId ?? ''}</a> (SR <span class="uid">${outcome.results.supersededBy.srSopInstanceUID ?? ''}</span>) at ${formatTime(outcome.results.supersededBy.at)}; ${outcome.results.supersededBy.action === 'deleted' ? 'its objects were deleted from the PACS' : 'its objects stay in the PACS'}</dd>` : ''}
  ${outcome?.results?.supersedes ? html`<dt>Supersedes</dt><dd>the result of <a href="/jobs/${outcome.results.supersedes.jobId ?? ''}">job ${outcome.results.supersedes.jobId ?? ''}</a> (SR <span class="uid">${outcome.results.supersedes.srSopInstanceUID ?? ''}</span>, named in this SR's Predecessor Documents); ${outcome.results.supersedes.action === 'deleted' ? 'deleted from the PACS' : 'kept in the PACS'}</dd>` : ''}
  <dt>Content fingerprint</dt><dd class="uid">${job.fingerprint}</dd>
  ${outcome?.preparedAhead
    ? html`<dt>Prepared ahead</dt><dd>${outcome.preparedAhead.used ? html`yes: analysed before StableStudy (${formatTime(outcome.preparedAhead.preparedAt)}) from this same content; the job only stored the results` : html`not used: ${outcome.preparedAhead.reason ?? ''}`}</dd>`
    : ''}
</dl>
${(job.state === 'done' || job.state === 'skipped' || job.state === 'failed') ? html`<p><button type="button" data-retry="${job.id}">${job.state === 'done' ? 'Re-run' : 'Retry'}</button></p>` : ''}
<h3>Timings</h3>
<table class="timings"><tbody>${Object.entries(job.timingsMs ?? {}).map(([k, v]) => html`<tr><th>${k}</th><td class="num">${formatDuration(v)}</td></tr>`)}</tbody></table>
<h3>Phase selection</h3>
${sel
  ? html`<p>${sel.analyzable ? 'Analysable.' : html`Not analysable: <code>${sel.reasonCode ?? ''}</code> ${sel.reason ?? ''}`}</p>
<dl class="chosen"><dt>Pancreatic / arterial</dt>${chosen('arterial')}<dt>Portal venous</dt>${chosen('venous')}</dl>
<table class="candidates">
  <thead><tr><th>#</th><th>Description</th><th>Modality</th><th>Images</th><th>Phase</th><th>Eligible</th><th>Score</th><th>Failed</th></tr></thead>
  <tbody>${(sel.candidates ?? []).map(
    (c) => html`<tr><td>${c.seriesNumber ?? ''}</td><td title="${c.seriesInstanceUID}">${c.seriesDescription || '(none)'}</td><td>${c.modality ?? ''}</td><td class="num">${c.instanceCount ?? ''}</td><td>${c.phase ?? ''}</td><td>${c.eligible ? 'yes' : html`no <code>${c.failureCode ?? ''}</code>`}</td><td class="num">${c.score ?? ''}</td><td>${(c.details?.failed ?? []).map((f) => html`<div><code>${f.rule}</code> ${f.detail}</div>`)}</td></tr>`,
  )}</tbody>
</table>`
  : html`<p>Not recorded yet.</p>`}
<p><a href="/api/jobs/${job.id}">This job as JSON</a> · <a href="/">All jobs</a></p>
</main>`;
  return layout(`tsr-node job ${job.id}`, o.csrfToken, body);
}

export function renderLoginPage(o: { version: string; error?: string; next?: string }): string {
  const body = html`<main class="login">
<h1>tsr-node <small>${o.version}</small></h1>
<form method="post" action="/login">
  ${o.next && o.next !== '/' ? html`<input type="hidden" name="next" value="${o.next}">` : ''}
  <label>API token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
  <button type="submit">Log in</button>
</form>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<p class="hint">The token is the node's <code>api.token</code>. Without one configured, the node wrote it to <code>&lt;dataDir&gt;/api-token</code> on its machine.</p>
</main>`;
  return layout('tsr-node login', undefined, body);
}

export const STATUS_PAGE_CSS = `
:root { font-family: "DejaVu Sans", system-ui, sans-serif; font-size: 14px; color: #1d2733; background: #f5f7fa; }
body { margin: 0; }
header { display: flex; align-items: center; justify-content: space-between; padding: 0.6rem 1.2rem; background: #1d2733; color: #fff; }
header h1 { margin: 0; font-size: 1.3rem; } header a { color: #fff; text-decoration: none; } header small { color: #9fb0c3; font-weight: normal; }
main { padding: 1rem 1.2rem; }
h2 { font-size: 1.1rem; margin: 1.2rem 0 0.5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid #e1e6ec; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.time, .uid { font-family: "DejaVu Sans Mono", monospace; font-size: 0.85rem; }
td.reason { max-width: 32rem; }
td.num, td.time, .result, .state, td button { white-space: nowrap; }
table.timings { width: auto; min-width: 16rem; }
dl.chosen dt { font-weight: 600; margin-top: 0.4rem; } dl.chosen dd { margin-left: 1.2rem; }
.state { display: inline-block; padding: 0.1rem 0.45rem; border-radius: 0.6rem; font-size: 0.8rem; font-weight: 600; color: #fff; }
.state-queued { background: #6b7a8c; } .state-running { background: #1f6fd1; } .state-done { background: #1d8a4e; }
.state-skipped { background: #b7791f; } .state-failed { background: #c0392b; }
.result-high { color: #a02c1e; font-weight: 600; } .result-low { color: #1d6b8a; font-weight: 600; }
.superseded { color: #6b7a8c; font-style: italic; white-space: nowrap; } tr.superseded-result .result { text-decoration: line-through; }
.filters a { margin-right: 0.8rem; } .filters a.current { font-weight: 700; text-decoration: none; color: #1d2733; }
.count { color: #6b7a8c; }
.readiness { padding: 0.5rem 0.8rem; border-radius: 0.4rem; background: #fff; border-left: 0.4rem solid #1d8a4e; }
.readiness.not-ready { border-left-color: #c0392b; }
.waiting { padding: 0.5rem 0.8rem; border-radius: 0.4rem; background: #fff8e6; border-left: 0.4rem solid #d68910; margin-top: 0.8rem; } .waiting h2 { margin: 0 0 0.3rem; } .waiting p { margin: 0; }
.readiness h2 { margin: 0 0 0.3rem; } .readiness ul { list-style: none; margin: 0; padding: 0; display: flex; gap: 1.5rem; flex-wrap: wrap; }
.readiness li.bad b { color: #c0392b; } .readiness .detail { color: #6b7a8c; margin-left: 0.4rem; }
.facts { margin: 0.6rem 0; color: #4a5868; display: flex; gap: 1.5rem; flex-wrap: wrap; }
.empty { color: #6b7a8c; text-align: center; }
table.nodes tr.silent { color: #6b7a8c; } .feed-follower { color: #1f6fd1; }
button { font: inherit; padding: 0.2rem 0.7rem; border: 1px solid #9fb0c3; border-radius: 0.3rem; background: #fff; cursor: pointer; }
header button { background: transparent; color: #fff; }
code { background: #eef2f6; padding: 0 0.25rem; border-radius: 0.2rem; }
dl.job { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; }
dl.job dt { font-weight: 600; } dl.job dd { margin: 0; }
.login { max-width: 28rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border-radius: 0.5rem; }
.login label { display: block; margin: 1rem 0; } .login input { width: 100%; padding: 0.4rem; font: inherit; }
.error { color: #c0392b; } .hint { color: #6b7a8c; font-size: 0.9rem; }
footer { padding: 1rem 1.2rem; color: #6b7a8c; font-size: 0.85rem; }
`;

/** Retry / re-run buttons and the analyse form: POSTs with the session's CSRF token. */
export const STATUS_PAGE_SCRIPT = `'use strict';
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  function post(url) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-retry]');
    if (!button) return;
    button.disabled = true;
    post('/api/jobs/' + encodeURIComponent(button.getAttribute('data-retry')) + '/retry').then(function (r) {
      if (r.ok) window.location.reload();
      else { button.disabled = false; window.alert(r.body.error ? r.body.error.message : 'retry failed'); }
    });
  });
  var form = document.getElementById('analyze-form');
  if (form) form.addEventListener('submit', function (event) {
    event.preventDefault();
    var out = document.getElementById('analyze-result');
    var uid = form.elements.uid.value.trim();
    post('/api/studies/' + encodeURIComponent(uid) + '/analyze').then(function (r) {
      out.textContent = r.ok ? (r.body.outcome + (r.body.job ? ' (job ' + r.body.job.id + ')' : '')) : (r.body.error ? r.body.error.code + ': ' + r.body.error.message : 'failed');
      if (r.ok) setTimeout(function () { window.location.reload(); }, 800);
    });
  });
})();
`;
