/**
 * One follower of Orthanc's change feed among nodes that share a job store (orthanc/feedLease.ts),
 * against a real Orthanc and a real PostgreSQL: of two feeds on one database only the lease holder
 * reads /changes; when it stops, the other takes over at once from the persisted cursor; when the
 * holder died without a word (its lease left in the store), the other takes over once the lease
 * ran out, within leaseMs + leaseMs / 3. No study is missed, none enqueued twice.
 */
import { expect } from 'chai';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { PostgresJobStore } from '../../src/jobs/postgresJobStore';
import { ChangeFeed } from '../../src/orthanc/changeFeed';
import { StudyIntake } from '../../src/orthanc/intake';
import { OrthancRestClient } from '../../src/orthanc/orthancRest';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { startPostgres, type PostgresServer } from '../harness/postgres';
import { makeSimpleCtSeries } from '../harness/simpleCtSeries';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const LEASE_MS = 3000;

interface FeedNode {
  owner: string;
  store: PostgresJobStore;
  rest: OrthancRestClient;
  dicomWeb: DicomWebClientHandle;
  feed: ChangeFeed;
  /** /changes requests this node made. */
  changeReads: number;
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('orthanc/feedLease: one change feed follower among nodes on one PostgreSQL', function () {
  this.timeout(90_000);
  let orthanc: OrthancInstance;
  let postgres: PostgresServer;
  let url: string;
  const nodes: FeedNode[] = [];

  before(async function () {
    this.timeout(60_000);
    [orthanc, postgres] = await Promise.all([startOrthanc({ stableAgeSeconds: 1 }), startPostgres()]);
  });
  beforeEach(async () => {
    url = (await postgres.createDatabase()).url;
  });
  afterEach(async () => {
    for (const node of nodes.splice(0)) {
      await node.feed.stop();
      node.rest.close();
      node.dicomWeb.close();
      await node.store.close();
    }
  });
  after(async () => {
    await orthanc?.stop();
    await postgres?.stop();
  });

  async function startFeedNode(owner: string): Promise<FeedNode> {
    const connection = { url: orthanc.url, username: orthanc.username, password: orthanc.password };
    const store = await PostgresJobStore.open({ url });
    const rest = new OrthancRestClient(connection);
    const dicomWeb = createDicomWebClient(connection);
    const node = { owner, store, rest, dicomWeb, changeReads: 0 } as FeedNode;
    const getChanges = rest.getChanges.bind(rest);
    rest.getChanges = (since, limit) => {
      node.changeReads++;
      return getChanges(since, limit);
    };
    const intake = new StudyIntake({ store, orthanc: rest, dicomWeb });
    node.feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '* * * * * *', pageSize: 100, lease: { owner, leaseMs: LEASE_MS } });
    node.feed.start();
    nodes.push(node);
    return node;
  }

  async function sendStudy(seed: string): Promise<string> {
    const series = makeSimpleCtSeries({ seed, slices: 2, rows: 16, columns: 16 });
    for (const instance of series.instances) await orthanc.rest('POST', '/instances', instance.part10);
    return series.studyInstanceUID;
  }

  async function jobsOf(store: PostgresJobStore, studyInstanceUID: string): Promise<number> {
    return (await store.list({ studyInstanceUID })).jobs.length;
  }

  it('only the holder reads /changes; a graceful stop hands the feed over at once, from the cursor', async () => {
    const a = await startFeedNode('node-a/1');
    await until(() => a.feed.following, 'a follows');
    const b = await startFeedNode('node-b/1');
    const first = await sendStudy('lease-first');
    await until(async () => (await jobsOf(a.store, first)) === 1, 'the first study queued');
    await sleep(1500);
    expect(b.feed.following).to.equal(false);
    expect(b.changeReads, 'the other node never reads /changes').to.equal(0);
    expect(a.changeReads).to.be.greaterThan(1);
    const cursor = await a.store.getChangeCursor();

    const stoppedAt = Date.now();
    await a.feed.stop();
    expect(await b.store.getFeedLease(), 'released').to.equal(undefined);
    await until(() => b.feed.following, 'b follows');
    expect(Date.now() - stoppedAt, 'within a round of asking (leaseMs / 3)').to.be.below(LEASE_MS / 3 + 1000);
    const second = await sendStudy('lease-second');
    await until(async () => (await jobsOf(b.store, second)) === 1, 'the second study queued by b');
    expect(await b.store.getChangeCursor()).to.be.greaterThan(cursor);
    expect(await jobsOf(b.store, first), 'the first study not queued again').to.equal(1);
    const events = await b.store.listIntakeEvents(100);
    expect(events.filter((e) => e.outcome === 'recognised'), 'b went on from the cursor: it did not read the first study again').to.deep.equal([]);
  });

  it('a holder that died without releasing: the other node takes the feed once the lease ran out, within leaseMs + leaseMs / 3', async () => {
    const observer = await PostgresJobStore.open({ url });
    try {
      expect(await observer.acquireFeedLease('dead-node/1', LEASE_MS)).to.equal(true);
      const diedAt = Date.now();
      const b = await startFeedNode('node-b/1');
      const study = await sendStudy('lease-dead');
      await sleep(LEASE_MS - 1000);
      expect(b.feed.following, 'not before the lease ran out').to.equal(false);
      expect(b.changeReads).to.equal(0);
      await until(() => b.feed.following, 'b follows', 10_000);
      const takeoverMs = Date.now() - diedAt;
      expect(takeoverMs).to.be.at.least(LEASE_MS).and.below(LEASE_MS + LEASE_MS / 3 + 1000);
      await until(async () => (await jobsOf(b.store, study)) === 1, 'the study sent meanwhile queued');
      expect((await observer.getFeedLease())?.owner).to.equal('node-b/1');
    } finally {
      await observer.close();
    }
  });
});
