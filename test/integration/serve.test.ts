/**
 * `tsr-node serve` as an administrator runs it: a child process with a config file, against a
 * real Orthanc. It refuses to start with a clear message when it should; generates its API token
 * (mode 0600) on loopback; follows Orthanc's change feed; stops gracefully on SIGTERM (a running
 * job finishes, or goes back to the queue past worker.stopTimeoutMs and is finished after a
 * restart).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../src/config/schema';
import type { Job } from '../../src/jobs/jobStore';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { readOrCreateNodeId } from '../../src/node/nodeIdentity';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { call, isFinished, runCli, sleep, testNodeConfig, waitForStudyJob, writeConfigFile, type CliChild } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy } from './serveStudyFixture';

describe('serve: the tsr-node serve process (real Orthanc, tiny models)', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  const children: CliChild[] = [];
  const dirs: string[] = [];

  before(async () => {
    orthanc = await startOrthanc({ stableAgeSeconds: 1 });
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  });
  after(async () => {
    await orthanc?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const config = (overrides: Record<string, unknown> = {}): Config => {
    const c = testNodeConfig(orthanc, overrides);
    dirs.push(c.dataDir);
    return c;
  };
  const serve = (c: Config): CliChild => {
    const child = runCli(['serve', '--config', writeConfigFile(c)]);
    children.push(child);
    return child;
  };

  describe('refuses to start, with a message that names the problem', () => {
    it('a models folder without the models', async () => {
      const empty = mkdtempSync(path.join(os.tmpdir(), 'tsr-nomodels-'));
      dirs.push(empty);
      const child = serve(config({ models: { dir: empty } }));
      expect(await child.exited).to.equal(1);
      expect(child.output()).to.match(/cannot start: model .*tsr-localizer\.json: manifest not found/);
    });

    it('a non-loopback API host without a token', async () => {
      const c = config();
      delete c.api.token;
      c.api.host = '0.0.0.0';
      const child = serve(c);
      expect(await child.exited).to.equal(1);
      expect(child.output()).to.match(/api\.host is "0\.0\.0\.0".*no API token is configured/);
    });

    it('an invalid configuration value', async () => {
      const c = config() as unknown as { feed: { mode: string }; dataDir: string };
      c.feed.mode = 'sometimes';
      const child = serve(c as unknown as Config);
      expect(await child.exited).to.equal(1);
      expect(child.output()).to.match(/invalid configuration[\s\S]*feed\.mode/);
    });
  });

  it('without a token on loopback, generates one in dataDir/api-token (mode 0600) and says where', async () => {
    const c = config();
    delete c.api.token;
    const child = serve(c);
    const url = await child.url;
    const file = path.join(c.dataDir, 'api-token');
    expect(child.output()).to.contain(file);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).to.match(/^[0-9a-f]{64}$/);
    expect(child.output()).to.not.contain(token);
    expect((await call(url, 'GET', '/api/jobs')).status).to.equal(401);
    expect((await call(url, 'GET', '/api/jobs', { token })).status).to.equal(200);
    child.child.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
  });

  it('follows the change feed, and on SIGTERM lets the running job finish', async () => {
    const c = config();
    const child = serve(c);
    const url = await child.url;
    const token = c.api.token!;
    const study = makeSphereStudy({ seed: 'serve-finish' });
    await uploadSphereStudy(orthanc, study);
    const running = await waitForStudyJob(url, token, study.studyInstanceUID, (j) => j.state === 'running' || isFinished(j));
    expect(running.source).to.equal('feed');
    child.child.kill('SIGTERM');
    expect(await child.exited).to.equal(0);
    expect(child.output()).to.contain('stopped');
    const store = new SqliteJobStore({ path: c.dataDir });
    const [job] = (await store.list({ studyInstanceUID: study.studyInstanceUID })).jobs;
    await store.close();
    expect(job.state, JSON.stringify(job.reason)).to.equal('done');
    expect(job.resultUids).to.have.length(3);
  });

  it('a restarted node frees the job its earlier life held when it was killed, at once, not after the lease', async () => {
    // The earlier life: a job claimed under this node's id with a lease far longer than the test.
    const c = config({ feed: { mode: 'webhook' }, worker: { leaseMs: 600_000 } });
    const study = makeSphereStudy({ seed: 'serve-crash' });
    await uploadSphereStudy(orthanc, study);
    const nodeId = readOrCreateNodeId(c.dataDir);
    const store = new SqliteJobStore({ path: c.dataDir });
    const { job } = await store.enqueue({ studyInstanceUID: study.studyInstanceUID, fingerprint: 'before-the-crash', source: 'manual' });
    const claimed = await store.claim({ owner: `${nodeId}/killed-life`, leaseMs: 600_000 });
    expect(claimed?.id).to.equal(job.id);
    // A job of another node sharing the store is not this node's to free.
    await store.enqueue({ studyInstanceUID: '1.2.826.0.1.99', fingerprint: 'other-node', source: 'manual' });
    const othersJob = await store.claim({ owner: 'other-node/its-life', leaseMs: 600_000 });
    await store.close();

    const child = serve(c);
    const url = await child.url;
    const done = await waitForStudyJob(url, c.api.token!, study.studyInstanceUID, isFinished);
    expect(done.id).to.equal(job.id);
    expect(done.state, JSON.stringify(done.reason)).to.equal('done');
    expect(done.attempts, 'the crashed attempt counts').to.equal(2);
    expect(child.output()).to.contain('jobs held by an earlier life of this node go back to the queue').and.contain(`"jobIds":[${job.id}]`);
    const other = await call<Job>(url, 'GET', `/api/jobs/${othersJob!.id}`, { token: c.api.token! });
    expect(other.body.state).to.equal('running');
    child.child.kill('SIGINT');
    expect(await child.exited).to.equal(0);
  });

  it('puts a job still running after worker.stopTimeoutMs back in the queue; after a restart it is done', async () => {
    const c = config({ worker: { stopTimeoutMs: 1, retryBaseDelayMs: 200 } });
    const first = serve(c);
    const url = await first.url;
    const token = c.api.token!;
    const study = makeSphereStudy({ seed: 'serve-release' });
    await uploadSphereStudy(orthanc, study);
    let job: Job | undefined;
    for (let i = 0; i < 600 && job === undefined; i++) {
      const r = await call<{ jobs: Job[] }>(url, 'GET', `/api/jobs?study=${study.studyInstanceUID}`, { token });
      job = r.body.jobs.find((j) => j.state === 'running');
      if (!job) await sleep(10);
    }
    expect(job, 'the job was seen running').to.not.equal(undefined);
    first.child.kill('SIGTERM');
    expect(await first.exited).to.equal(0);
    expect(first.output()).to.contain('returning unfinished jobs to the queue');
    const store = new SqliteJobStore({ path: c.dataDir });
    const released = await store.get(job!.id);
    await store.close();
    expect(released?.state).to.equal('queued');

    const second = serve(c);
    const url2 = await second.url;
    const done = await waitForStudyJob(url2, token, study.studyInstanceUID, isFinished);
    expect(done.id).to.equal(job!.id);
    expect(done.state).to.equal('done');
    second.child.kill('SIGINT');
    expect(await second.exited).to.equal(0);
  });
});
