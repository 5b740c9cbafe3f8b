/**
 * Two `tsr-node serve` processes on one Orthanc and one PostgreSQL, as a site runs them (issue 23):
 * ten small dual-phase studies, the first five announced to both nodes by the webhook as well as by
 * the change feed; the node that follows the feed is killed with SIGKILL while it runs a job. The
 * other takes over the feed and the dead node's job, and every study ends with exactly one SR, one
 * SC and one SEG in Orthanc (those its job names), no job failed, none left queued or claimed.
 * Prepare-ahead is on (quietSeconds 0.3): a study may be prepared by one node and stored by the other.
 *
 * Then the goal, three times in a row: a node picked at random is killed at a random moment
 * while studies arrive, and started again on its data directory (it frees what its earlier life
 * held at once); nothing lost, nothing doubled.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Config } from '../../src/config/schema';
import type { Job, NodeRecord } from '../../src/jobs/jobStore';
import { PostgresJobStore } from '../../src/jobs/postgresJobStore';
import { readOrCreateNodeId } from '../../src/node/nodeIdentity';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { startPostgres, type PostgresServer } from '../harness/postgres';
import { call, isFinished, runCli, sleep, writeConfigFile, type CliChild } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy, type SphereStudy } from './serveStudyFixture';
import { orthancStudyIdOf, resultSeriesOf, sharedStoreNodeConfig } from './severalNodesHarness';

const TOKEN = 'test-token-0123456789abcdef';
const STUDIES = 10;

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

async function nodesOf(url: string): Promise<NodeRecord[]> {
  const r = await call<{ nodes: NodeRecord[] }>(url, 'GET', '/api/nodes', { token: TOKEN });
  if (r.status !== 200) throw new Error(`GET /api/nodes: ${r.status}`);
  return r.body.nodes;
}

describe('several nodes: two serve processes on one Orthanc and one PostgreSQL', function () {
  this.timeout(240_000);
  let orthanc: OrthancInstance;
  let postgres: PostgresServer;
  const children: CliChild[] = [];
  const configs: Config[] = [];

  before(async function () {
    this.timeout(60_000);
    [orthanc, postgres] = await Promise.all([startOrthanc({ stableAgeSeconds: 2 }), startPostgres()]);
  });
  after(async () => {
    for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await orthanc?.stop();
    await postgres?.stop();
    for (const c of configs) rmSync(c.dataDir, { recursive: true, force: true });
  });

  /** The node's jobs settle: every study has its job and the follow-up job of its own results, all finished. */
  async function allSettled(store: PostgresJobStore, studies: SphereStudy[]): Promise<Job[] | undefined> {
    const { jobs } = await store.list({ limit: 500 });
    const each = studies.every((s) => jobs.filter((j) => j.studyInstanceUID === s.studyInstanceUID).length >= 2);
    return each && jobs.every(isFinished) ? jobs : undefined;
  }

  /** Every study: exactly one SR, one SC and one SEG in Orthanc, those its jobs name; every job done, none claimed. */
  async function expectOneResultEach(jobs: Job[], studies: SphereStudy[], context: string): Promise<void> {
    expect(jobs.filter((j) => j.state !== 'done').map((j) => [j.id, j.state, j.reason?.code]), `${context}: every job done`).to.deep.equal([]);
    expect(jobs.filter((j) => j.leaseOwner !== undefined), `${context}: no job left claimed`).to.deep.equal([]);
    for (const study of studies) {
      const series = await resultSeriesOf(orthanc, study.studyInstanceUID);
      const analysed = jobs.filter((j) => j.studyInstanceUID === study.studyInstanceUID && (j.resultUids?.length ?? 0) === 3);
      expect(series.map((s) => s.sopInstanceUIDs.length), `${context}, ${study.studyInstanceUID}: three result series (SR, SC, SEG) of one instance`).to.deep.equal([1, 1, 1]);
      expect(series.map((s) => s.modality)).to.include('SR');
      expect(new Set(analysed.flatMap((j) => j.resultUids)), `${context}: the results are those its jobs name`).to.deep.equal(new Set(series.flatMap((s) => s.sopInstanceUIDs)));
    }
  }

  it('10 studies, the feed follower killed with SIGKILL while it runs a job: one SR, one SC and one SEG per study, nothing failed, nothing left claimed', async () => {
    const { url: databaseUrl } = await postgres.createDatabase();
    for (let i = 0; i < 2; i++) configs.push(sharedStoreNodeConfig(orthanc, databaseUrl, { feed: { prepareAhead: { enabled: true, quietSeconds: 0.3 } } }));
    const nodeIds = configs.map((c) => readOrCreateNodeId(c.dataDir));
    for (const c of configs) children.push(runCli(['serve', '--config', writeConfigFile(c)]));
    const urls = await Promise.all(children.map((c) => c.url));
    const follower = await until(async () => (await nodesOf(urls[0])).filter((n) => n.live && n.followsFeed).map((n) => nodeIds.indexOf(n.nodeId)).find((i) => i >= 0), 'a feed follower', 20_000);
    const survivor = 1 - follower;

    const studies = Array.from({ length: STUDIES }, (_, i) => makeSphereStudy({ seed: `several-nodes-${i}` }));
    for (const study of studies.slice(0, STUDIES / 2)) {
      await uploadSphereStudy(orthanc, study);
      // Both nodes hear of it by the webhook too: the store enqueues it once.
      const body = { event: 'StableStudy', orthancStudyId: await orthancStudyIdOf(orthanc, study.studyInstanceUID), studyInstanceUID: study.studyInstanceUID };
      for (const url of urls) expect((await call(url, 'POST', '/api/webhook/stable-study', { token: TOKEN, body })).status).to.equal(202);
    }
    // The job to kill is read from the store (running, leased by the follower) right before the
    // kill: the node list is as old as the last heartbeat, so on a loaded machine a job it shows
    // may already be done.
    const watch = await PostgresJobStore.open({ url: databaseUrl });
    let held: number[];
    try {
      held = await until(async () => {
        const running = (await watch.list({ state: 'running', limit: 500 })).jobs.filter((j) => j.leaseOwner?.startsWith(`${nodeIds[follower]}/`));
        return running.length > 0 ? running.map((j) => j.id) : undefined;
      }, 'the follower running a job', 30_000);
      children[follower].child.kill('SIGKILL');
    } finally {
      await watch.close();
    }
    const killedAt = Date.now();
    expect(await children[follower].exited).to.equal(137);

    // The rest come in by the change feed alone, which the survivor has to take over.
    for (const study of studies.slice(STUDIES / 2)) await uploadSphereStudy(orthanc, study);
    await until(async () => (await nodesOf(urls[survivor])).find((n) => n.nodeId === nodeIds[survivor] && n.followsFeed), 'the survivor following the feed', 15_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs, 'within feed.leaseMs + feed.leaseMs / 3 and a poll').to.be.below(3000 + 1000 + 3000);

    const store = await PostgresJobStore.open({ url: databaseUrl });
    try {
      const jobs = await until(() => allSettled(store, studies), 'every job finished', 150_000);
      expect(await store.countByState()).to.deep.include({ queued: 0, running: 0, failed: 0, skipped: 0 });
      await expectOneResultEach(jobs, studies, 'one kill');
      const killedJob = jobs.find((j) => j.id === held[0]);
      expect(killedJob?.attempts, 'the killed node\'s job, taken over by the survivor: the killed attempt counts').to.be.at.least(2);
      const nodes = await nodesOf(urls[survivor]);
      expect(nodes.find((n) => n.nodeId === nodeIds[follower])).to.include({ live: false, followsFeed: false });
      expect(nodes.find((n) => n.nodeId === nodeIds[survivor])).to.include({ live: true, followsFeed: true });
    } finally {
      await store.close();
    }
    children[survivor].child.kill('SIGTERM');
    expect(await children[survivor].exited).to.equal(0);
  });

  it('a node picked at random killed at a random moment, three times in a row, and started again: nothing lost, nothing doubled', async () => {
    const { url: databaseUrl } = await postgres.createDatabase();
    const pair = [0, 1].map(() => sharedStoreNodeConfig(orthanc, databaseUrl));
    configs.push(...pair);
    const running = pair.map((c) => runCli(['serve', '--config', writeConfigFile(c)]));
    children.push(...running);
    await Promise.all(running.map((c) => c.url));
    const studies: SphereStudy[] = [];
    const kills: string[] = [];
    for (let round = 0; round < 3; round++) {
      const victim = Math.random() < 0.5 ? 0 : 1;
      const delayMs = Math.round(Math.random() * 3000);
      const batch = Array.from({ length: 3 }, (_, i) => makeSphereStudy({ seed: `random-kill-${round}-${i}` }));
      studies.push(...batch);
      for (const study of batch) await uploadSphereStudy(orthanc, study);
      await sleep(delayMs);
      running[victim].child.kill('SIGKILL');
      await running[victim].exited;
      kills.push(`round ${round}: node ${victim} killed ${delayMs} ms after the upload`);
      running[victim] = runCli(['serve', '--config', writeConfigFile(pair[victim])]);
      children.push(running[victim]);
      await running[victim].url;
    }
    const store = await PostgresJobStore.open({ url: databaseUrl });
    try {
      const jobs = await until(() => allSettled(store, studies), `every job finished (${kills.join('; ')})`, 150_000);
      await expectOneResultEach(jobs, studies, kills.join('; '));
    } finally {
      await store.close();
    }
    for (const c of running) c.child.kill('SIGTERM');
    expect(await Promise.all(running.map((c) => c.exited))).to.deep.equal([0, 0]);
  });
});
