/**
 * The HTTP API of a running node (src/node/tsrNode.ts) against a real Orthanc, with the tiny
 * fixture models: authentication, validation with reasons, manual trigger, re-run without
 * duplicates, retry, readiness, metrics, the webhook, and the browser session.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Job } from '../../src/jobs/jobStore';
import { startNode, type RunningNode } from '../../src/node/tsrNode';
import { silentLogger } from '../../src/logging/logger';
import { PACKAGE_VERSION } from '../../src/paths';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { call, isFinished, sleep, testNodeConfig, waitForJob, waitForStudyJob } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy } from './serveStudyFixture';

const TOKEN = 'test-token-0123456789abcdef';

async function instanceCount(orthanc: OrthancInstance, studyInstanceUID: string): Promise<number> {
  const found = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', studyInstanceUID);
  if (found.length === 0) return 0;
  const instances = await orthanc.rest<unknown[]>('GET', `/studies/${found[0].ID}/instances`);
  return instances.length;
}

describe('api: the HTTP API of a running node (real Orthanc, tiny models)', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let node: RunningNode;
  let base: string;

  before(async () => {
    orthanc = await startOrthanc({ stableAgeSeconds: 1 });
    // Manual triggers only here: the feed would race the tests for the same studies.
    node = await startNode({ config: testNodeConfig(orthanc, { feed: { mode: 'webhook' } }), logger: silentLogger, workerPollIntervalMs: 100 });
    base = node.url;
  });

  after(async () => {
    await node?.stop({ timeoutMs: 5000 });
    if (node) rmSync(node.config.dataDir, { recursive: true, force: true });
    await orthanc?.stop();
  });

  describe('authentication', () => {
    it('answers /healthz without a token', async () => {
      const r = await call<{ status: string }>(base, 'GET', '/healthz');
      expect(r.status).to.equal(200);
      expect(r.body.status).to.equal('ok');
    });

    for (const route of ['/readyz', '/metrics', '/api/jobs', '/api/jobs/1', '/api/intake-events', '/jobs/1']) {
      it(`refuses GET ${route} without a token: 401 with a JSON error`, async () => {
        const r = await call<{ error: { code: string; message: string } }>(base, 'GET', route);
        expect(r.status).to.equal(401);
        expect(r.body.error.code).to.equal('unauthorized');
        expect(r.headers.get('www-authenticate')).to.match(/^Bearer/);
      });
    }

    it('refuses POST routes without a token, and a wrong token', async () => {
      const uid = makeSphereStudy({ seed: 'api-auth' }).studyInstanceUID;
      expect((await call(base, 'POST', `/api/studies/${uid}/analyze`)).status).to.equal(401);
      expect((await call(base, 'POST', '/api/jobs/1/retry')).status).to.equal(401);
      expect((await call(base, 'POST', '/api/webhook/stable-study', { body: { orthancStudyId: 'x' } })).status).to.equal(401);
      expect((await call(base, 'GET', '/api/jobs', { token: TOKEN.slice(0, -1) + 'x' })).status).to.equal(401);
      expect((await call(base, 'GET', '/api/jobs', { headers: { Authorization: `Basic ${Buffer.from('a:' + TOKEN).toString('base64')}` } })).status).to.equal(401);
    });

    it('sends a browser without a session to the login page', async () => {
      const r = await fetch(`${base}/`, { headers: { Accept: 'text/html' }, redirect: 'manual' });
      expect(r.status).to.equal(303);
      expect(r.headers.get('location')).to.equal('/login?next=%2F');
    });

    it('logs a browser in with the token (cookie session), and wants the CSRF token for POSTs', async () => {
      const wrong = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: 'not-the-token-at-all' }), redirect: 'manual' });
      expect(wrong.status).to.equal(401);
      expect(wrong.headers.get('set-cookie')).to.equal(null);

      const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
      expect(login.status).to.equal(303);
      const setCookie = login.headers.get('set-cookie') ?? '';
      expect(setCookie).to.match(/^tsr_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/);
      expect(setCookie).to.not.contain(TOKEN);
      const cookie = setCookie.split(';')[0];

      const page = await fetch(`${base}/`, { headers: { Cookie: cookie } });
      expect(page.status).to.equal(200);
      const html = await page.text();
      expect(html).to.contain('<table class="jobs">');
      expect(html).to.not.contain(TOKEN);
      const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];
      expect(csrf).to.be.a('string');

      expect((await fetch(`${base}/api/jobs`, { headers: { Cookie: cookie } })).status).to.equal(200);
      const noCsrf = await fetch(`${base}/api/jobs/999999/retry`, { method: 'POST', headers: { Cookie: cookie } });
      expect(noCsrf.status).to.equal(403);
      expect(((await noCsrf.json()) as { error: { code: string } }).error.code).to.equal('csrf-token-missing');
      const withCsrf = await fetch(`${base}/api/jobs/999999/retry`, { method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': csrf! } });
      expect(withCsrf.status).to.equal(404);

      // After login, back to where the browser was going; never to another site.
      const toViewer = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN, next: '/viewer?StudyInstanceUIDs=1.2.3' }), redirect: 'manual' });
      expect(toViewer.headers.get('location')).to.equal('/viewer?StudyInstanceUIDs=1.2.3');
      const away = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN, next: '//evil.example/x' }), redirect: 'manual' });
      expect(away.headers.get('location')).to.equal('/');

      const logout = await fetch(`${base}/logout`, { method: 'POST', headers: { Cookie: cookie }, body: new URLSearchParams({ csrf: csrf! }), redirect: 'manual' });
      expect(logout.status).to.equal(303);
      expect((await fetch(`${base}/api/jobs`, { headers: { Cookie: cookie } })).status).to.equal(401);
    });
  });

  describe('validation: a wrong request gets 400 with a reason', () => {
    const table: Array<[string, string, { body?: unknown; rawBody?: string; headers?: Record<string, string> }, number, string, RegExp]> = [
      ['a StudyInstanceUID with letters', '/api/studies/1.2.abc/analyze', {}, 400, 'invalid-uid', /digits and dots/],
      ['a StudyInstanceUID with a leading zero', '/api/studies/1.02.3/analyze', {}, 400, 'invalid-uid', /leading zeros/],
      ['a StudyInstanceUID of 65 characters', `/api/studies/1.${'2'.repeat(63)}/analyze`, {}, 400, 'invalid-uid', /at most 64/],
      ['rerun that is not a boolean', '/api/studies/1.2.3/analyze', { body: { rerun: 'yes' } }, 400, 'invalid-body', /rerun/],
      ['an unknown field', '/api/studies/1.2.3/analyze', { body: { force: true } }, 400, 'invalid-body', /force/],
      ['malformed JSON', '/api/studies/1.2.3/analyze', { rawBody: '{"rerun": tru', headers: { 'Content-Type': 'application/json' } }, 400, 'invalid-json', /not valid JSON/],
      ['a form body', '/api/studies/1.2.3/analyze', { rawBody: 'rerun=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported-media-type', /application\/json/],
      ['a webhook without orthancStudyId', '/api/webhook/stable-study', { body: { event: 'StableStudy' } }, 400, 'invalid-body', /orthancStudyId/],
      ['a webhook with a bad Orthanc id', '/api/webhook/stable-study', { body: { event: 'StableStudy', orthancStudyId: '../../system' } }, 400, 'invalid-body', /Orthanc study id/],
      ['a webhook of another event', '/api/webhook/stable-study', { body: { event: 'NewInstance', orthancStudyId: '0123abcd-0123abcd-0123abcd-0123abcd-0123abcd' } }, 400, 'invalid-body', /event/],
      ['a retry of a job id that is not a number', '/api/jobs/abc/retry', {}, 400, 'invalid-job-id', /positive integer/],
      ['a body over api.maxBodyBytes', '/api/studies/1.2.3/analyze', { rawBody: JSON.stringify({ rerun: true, pad: 'x'.repeat(70_000) }), headers: { 'Content-Type': 'application/json' } }, 413, 'body-too-large', /limit/],
    ];
    for (const [what, route, options, status, code, reason] of table) {
      it(`${what} -> ${status} ${code}`, async () => {
        const r = await call<{ error: { code: string; message: string } }>(base, 'POST', route, { token: TOKEN, ...options });
        expect(r.status).to.equal(status);
        expect(r.body.error.code).to.equal(code);
        expect(r.body.error.message).to.match(reason);
      });
    }

    it('a job list filter on an unknown state -> 400 invalid-query', async () => {
      const r = await call<{ error: { code: string; message: string } }>(base, 'GET', '/api/jobs?state=exploded', { token: TOKEN });
      expect(r.status).to.equal(400);
      expect(r.body.error.code).to.equal('invalid-query');
      expect(r.body.error.message).to.match(/state/);
    });

    it('a study the PACS does not have -> 404 study-not-found', async () => {
      const r = await call<{ error: { code: string } }>(base, 'POST', '/api/studies/1.2.826.0.1.3680043.99999.1/analyze', { token: TOKEN });
      expect(r.status).to.equal(404);
      expect(r.body.error.code).to.equal('study-not-found');
    });
  });

  describe('jobs', () => {
    const study = makeSphereStudy({ seed: 'api-jobs' });
    let first: Job;

    before(async () => uploadSphereStudy(orthanc, study));

    it('a manual trigger analyses the study and stores the SR, the SC and the SEG', async () => {
      const r = await call<{ outcome: string; job: Job }>(base, 'POST', `/api/studies/${study.studyInstanceUID}/analyze`, { token: TOKEN });
      expect(r.status).to.equal(202);
      expect(r.body.outcome).to.equal('enqueued');
      first = await waitForJob(base, TOKEN, r.body.job.id, isFinished);
      expect(first.state, JSON.stringify(first.reason)).to.equal('done');
      expect(first.resultUids).to.have.length(3);
      const outcome = first.outcome as { label: string; probabilityHigh: number; results: { stored: string[] } };
      expect(outcome.label).to.be.oneOf(['low', 'high']);
      expect(outcome.results.stored).to.have.members(first.resultUids!);
      const selection = first.selection as { analyzable: boolean; arterial: { seriesInstanceUID: string } };
      expect(selection.analyzable).to.be.true;
      expect(selection.arterial.seriesInstanceUID).to.equal(study.arterial.seriesInstanceUID);
      for (const stage of ['discover', 'select', 'retrieve', 'localise', 'classify', 'buildResults', 'store', 'total']) expect(first.timingsMs?.[stage], stage).to.be.a('number');
      expect(await instanceCount(orthanc, study.studyInstanceUID)).to.equal(48 + 3);
    });

    it('re-running the study adds no duplicate to Orthanc', async () => {
      const r = await call<{ outcome: string; job: Job }>(base, 'POST', `/api/studies/${study.studyInstanceUID}/analyze`, { token: TOKEN, body: { rerun: true } });
      expect(r.status).to.equal(202);
      // The study now holds our SR, SC and SEG as well: new content, so a new job; its results are the same UIDs.
      const job = await waitForJob(base, TOKEN, r.body.job.id, isFinished);
      expect(job.state).to.equal('done');
      expect(job.resultUids).to.have.members(first.resultUids!);
      expect((job.outcome as { sameAsJobId?: number }).sameAsJobId).to.equal(first.id);
      expect(await instanceCount(orthanc, study.studyInstanceUID)).to.equal(48 + 3);

      // Retrying the first job re-runs the full analysis: same UIDs, nothing new in the PACS.
      const retry = await call<{ outcome: string; job: Job }>(base, 'POST', `/api/jobs/${first.id}/retry`, { token: TOKEN });
      expect(retry.status).to.equal(202);
      expect(retry.body.outcome).to.equal('requeued');
      const again = await waitForJob(base, TOKEN, first.id, (j) => isFinished(j) && j.finishedAt !== first.finishedAt);
      expect(again.state).to.equal('done');
      expect(again.resultUids).to.have.members(first.resultUids!);
      expect(await instanceCount(orthanc, study.studyInstanceUID)).to.equal(48 + 3);
    });

    it('lists jobs by state, newest first, paged', async () => {
      const all = await call<{ jobs: Job[] }>(base, 'GET', '/api/jobs', { token: TOKEN });
      expect(all.status).to.equal(200);
      expect(all.body.jobs.length).to.be.at.least(2);
      const ids = all.body.jobs.map((j) => j.id);
      expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
      const done = await call<{ jobs: Job[] }>(base, 'GET', '/api/jobs?state=done', { token: TOKEN });
      expect(done.body.jobs.every((j) => j.state === 'done')).to.be.true;
      const page1 = await call<{ jobs: Job[]; next?: string; nextBeforeId?: number }>(base, 'GET', '/api/jobs?limit=1', { token: TOKEN });
      expect(page1.body.jobs).to.have.length(1);
      expect(page1.body.next).to.be.a('string');
      const page2 = await call<{ jobs: Job[] }>(base, 'GET', page1.body.next!, { token: TOKEN });
      expect(page2.body.jobs[0].id).to.be.below(page1.body.jobs[0].id);
    });

    it('a single-phase study is skipped with its reason, and retrying it is allowed; an unknown job is 404', async () => {
      const single = makeSphereStudy({ seed: 'api-single' });
      await uploadSphereStudy(orthanc, single, ['venous']);
      const r = await call<{ job: Job }>(base, 'POST', `/api/studies/${single.studyInstanceUID}/analyze`, { token: TOKEN });
      const job = await waitForJob(base, TOKEN, r.body.job.id, isFinished);
      expect(job.state).to.equal('skipped');
      expect(job.reason?.code).to.equal('single-phase');
      expect(job.reason?.message).to.match(/portal-venous|venous/);
      expect((job.selection as { analyzable: boolean }).analyzable).to.be.false;
      expect((await call(base, 'POST', `/api/jobs/${job.id}/retry`, { token: TOKEN })).status).to.equal(202);
      await waitForJob(base, TOKEN, job.id, (j) => j.state === 'skipped' && j.finishedAt !== job.finishedAt);
      expect((await call(base, 'GET', '/api/jobs/987654', { token: TOKEN })).status).to.equal(404);
    });

    it('a retry of a job that is still queued or running is 409 job-active', async () => {
      const slow = makeSphereStudy({ seed: 'api-active' });
      await uploadSphereStudy(orthanc, slow);
      const r = await call<{ job: Job }>(base, 'POST', `/api/studies/${slow.studyInstanceUID}/analyze`, { token: TOKEN });
      const retry = await call<{ error: { code: string } }>(base, 'POST', `/api/jobs/${r.body.job.id}/retry`, { token: TOKEN });
      expect(retry.status).to.equal(409);
      expect(retry.body.error.code).to.equal('job-active');
      await waitForJob(base, TOKEN, r.body.job.id, isFinished);
    });
  });

  describe('the webhook (what orthanc-config/tsr-node-webhook.lua sends)', () => {
    it('answers 202 at once, then enqueues the study by its Orthanc id, and recognises it the second time', async () => {
      const study = makeSphereStudy({ seed: 'api-webhook' });
      await uploadSphereStudy(orthanc, study);
      const [found] = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', study.studyInstanceUID);
      const body = { event: 'StableStudy', orthancStudyId: found.ID, studyInstanceUID: study.studyInstanceUID };
      const r = await call<{ outcome: string; orthancStudyId: string }>(base, 'POST', '/api/webhook/stable-study', { token: TOKEN, body });
      expect(r.status).to.equal(202);
      expect(r.body).to.deep.equal({ outcome: 'accepted', orthancStudyId: found.ID });
      const job = await waitForStudyJob(base, TOKEN, study.studyInstanceUID, () => true);
      expect(job.source).to.equal('webhook');
      expect(job.orthancStudyId).to.equal(found.ID);
      const again = await call(base, 'POST', '/api/webhook/stable-study', { token: TOKEN, body });
      expect(again.status).to.equal(202);
      const done = await waitForStudyJob(base, TOKEN, study.studyInstanceUID, isFinished);
      expect(done.state).to.equal('done');
      const deadline = Date.now() + 10_000;
      let outcomes: string[] = [];
      while (Date.now() < deadline) {
        const events = await call<{ events: Array<{ outcome: string; orthancStudyId?: string }> }>(base, 'GET', '/api/intake-events?limit=20', { token: TOKEN });
        outcomes = events.body.events.filter((e) => e.orthancStudyId === found.ID).map((e) => e.outcome);
        if (outcomes.length >= 2) break;
        await sleep(50);
      }
      expect(outcomes).to.have.members(['enqueued', 'recognised']);
      const { jobs } = (await call<{ jobs: Job[] }>(base, 'GET', `/api/jobs?study=${study.studyInstanceUID}`, { token: TOKEN })).body;
      expect(jobs.filter((j) => j.source === 'webhook')).to.have.length(1);
    });

    it('records a study Orthanc does not have (deleted since)', async () => {
      const id = '0123abcd-0123abcd-0123abcd-0123abcd-0123abcd';
      const r = await call<{ outcome: string }>(base, 'POST', '/api/webhook/stable-study', { token: TOKEN, body: { event: 'StableStudy', orthancStudyId: id } });
      expect(r.status).to.equal(202);
      const deadline = Date.now() + 10_000;
      let found = false;
      while (!found && Date.now() < deadline) {
        const events = await call<{ events: Array<{ outcome: string; orthancStudyId?: string }> }>(base, 'GET', '/api/intake-events?limit=5', { token: TOKEN });
        found = events.body.events.some((e) => e.outcome === 'study-deleted' && e.orthancStudyId === id);
        if (!found) await sleep(50);
      }
      expect(found).to.be.true;
    });
  });

  describe('readiness and metrics', () => {
    it('/readyz reports each check', async () => {
      const r = await call<{ ready: boolean; checks: Record<string, { ok: boolean; detail: string }> }>(base, 'GET', '/readyz', { token: TOKEN });
      expect(r.status).to.equal(200);
      expect(r.body.ready).to.be.true;
      expect(r.body.checks.orthanc.detail).to.match(/^Orthanc 1\.\d+/);
      expect(r.body.checks.models.detail).to.contain('tsr-clip-fusion');
      expect(r.body.checks.store.ok).to.be.true;
    });

    it('GET /api/nodes lists this node: live, its version and host, not following the feed (webhook mode), its running jobs', async () => {
      const r = await call<{ nodes: Array<Record<string, unknown>> }>(base, 'GET', '/api/nodes', { token: TOKEN });
      expect(r.status).to.equal(200);
      expect(r.body.nodes).to.have.length(1);
      expect(r.body.nodes[0]).to.deep.include({ nodeId: node.identity.nodeId, bootId: node.identity.bootId, version: PACKAGE_VERSION, live: true, followsFeed: false, self: true, runningJobIds: [] });
      expect((await call(base, 'GET', '/api/nodes')).status, 'needs the token').to.equal(401);
      const page = await call<string>(base, 'GET', '/', { token: TOKEN });
      expect(page.body).to.contain('<h2>Nodes</h2>').and.contain(`data-node-id="${node.identity.nodeId}"`).and.contain('(this node)');
    });

    it('/metrics is Prometheus text with jobs by state, stage histograms, bytes, queue depth and cursor', async () => {
      await sleep(10);
      const r = await call<string>(base, 'GET', '/metrics', { token: TOKEN });
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      // Every sample carries the node's id; the rest of the checks read the text without it.
      const nodeLabel = `node="${node.identity.nodeId}"`;
      for (const line of r.body.trim().split('\n').filter((l) => !l.startsWith('#'))) expect(line).to.contain(`{${nodeLabel}`);
      const text = r.body.replaceAll(`{${nodeLabel}}`, '').replaceAll(`{${nodeLabel},`, '{');
      expect(text).to.match(/^tsr_feed_follower 0$/m);
      expect(text).to.match(/^tsr_jobs\{state="done"\} [1-9]\d*$/m);
      expect(text).to.match(/^tsr_jobs\{state="skipped"\} [1-9]\d*$/m);
      expect(text).to.match(/^tsr_queue_depth \d+$/m);
      expect(text).to.match(/^tsr_change_cursor \d+$/m);
      expect(text).to.match(/^tsr_retrieved_bytes_total [1-9]\d*$/m);
      expect(text).to.match(/^tsr_stage_duration_seconds_bucket\{stage="retrieve",le="\+Inf"\} [1-9]\d*$/m);
      expect(text).to.match(/^tsr_stage_duration_seconds_count\{stage="classify"\} [1-9]\d*$/m);
      expect(text).to.match(/^tsr_job_attempts_total\{result="done"\} [1-9]\d*$/m);
      expect(text).to.match(/^tsr_model_info\{role="classifier",name="tsr-clip-fusion",version="0\.0\.0-test",sha256="[0-9a-f]{64}"\} 1$/m);
      // Every sample line is `name{labels} value`; every family has HELP and TYPE.
      for (const line of text.trim().split('\n')) expect(line).to.match(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[0-9.e+Inf]+)$/);
    });
  });
});
