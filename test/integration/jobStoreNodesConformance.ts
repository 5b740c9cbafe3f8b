/**
 * The job store contract's part for several nodes (the change feed's lease, the node registry),
 * as tests that every adapter must pass; run from describeJobStoreConformance
 * (jobStoreConformance.ts), so SQLite and PostgreSQL run the very same cases, on the store's clock.
 */
import { expect } from 'chai';
import type { JobStore, NodeRegistration } from '../../src/jobs/jobStore';
import type { OpenedJobStore, TestClock } from './jobStoreConformance';

export interface ConformanceContext {
  store: JobStore;
  clock: TestClock;
  opened: OpenedJobStore;
}

function node(nodeId: string, bootId: string): NodeRegistration {
  return { nodeId, bootId, host: `${nodeId}.example`, version: '1.2.3' };
}

export function describeSeveralNodes(context: () => ConformanceContext): void {
  describe('the change feed lease (one follower)', () => {
    it('one owner at a time; the holder extends it; another takes it only once it ran out; release frees it at once', async () => {
      const { store, clock } = context();
      expect(await store.getFeedLease()).to.equal(undefined);
      const t0 = clock.now().toISOString();
      expect(await store.acquireFeedLease('a/1', 15_000)).to.equal(true);
      expect(await store.acquireFeedLease('b/1', 15_000), 'held by a').to.equal(false);
      expect(await store.renewFeedLease('b/1', 15_000), 'b holds nothing to renew').to.equal(false);
      clock.advance(10_000);
      expect(await store.renewFeedLease('a/1', 15_000)).to.equal(true);
      expect(await store.acquireFeedLease('a/1', 15_000), 'the holder asking again keeps it').to.equal(true);
      expect(await store.getFeedLease()).to.deep.equal({ owner: 'a/1', since: t0, expiresAt: new Date(clock.now().getTime() + 15_000).toISOString() });
      clock.advance(14_999);
      expect(await store.acquireFeedLease('b/1', 15_000), 'not yet run out').to.equal(false);
      clock.advance(1);
      expect(await store.getFeedLease(), 'run out: nobody follows').to.equal(undefined);
      expect(await store.acquireFeedLease('b/1', 15_000)).to.equal(true);
      expect((await store.getFeedLease())?.since, 'a new holder, a new since').to.equal(clock.now().toISOString());
      expect(await store.renewFeedLease('a/1', 15_000), 'the old holder has lost it').to.equal(false);
      await store.releaseFeedLease('a/1');
      expect((await store.getFeedLease())?.owner, 'only the holder can release').to.equal('b/1');
      await store.releaseFeedLease('b/1');
      expect(await store.getFeedLease()).to.equal(undefined);
      expect(await store.acquireFeedLease('a/1', 15_000), 'free at once after a release').to.equal(true);
    });

    it('two stores asking at once (two nodes): exactly one gets it', async () => {
      const { store, opened, clock } = context();
      const other = await opened.sameDatabase();
      try {
        for (let round = 0; round < 3; round++) {
          const asks = Array.from({ length: 8 }, (_, i) => ({ owner: `node-${i}/${round}`, via: i % 2 ? other : store }));
          const won = await Promise.all(asks.map(({ owner, via }) => via.acquireFeedLease(owner, 5000)));
          const winners = asks.filter((_, i) => won[i]).map((ask) => ask.owner);
          expect(winners, `round ${round}`).to.have.length(1);
          expect((await other.getFeedLease())?.owner).to.equal(winners[0]);
          clock.advance(5000);
        }
      } finally {
        await other.close();
      }
    });
  });

  describe('the node registry', () => {
    it('lists each node: live while heard from, which follows the feed, its running jobs; a restart starts its record again', async () => {
      const { store, clock } = context();
      const started = clock.now().toISOString();
      await store.nodeHeartbeat(node('node-a', 'boot-1'), 10_000);
      await store.nodeHeartbeat(node('node-b', 'boot-1'), 10_000);
      await store.enqueue({ studyInstanceUID: '1.2.826.0.5.1', fingerprint: 'f', source: 'feed' });
      await store.enqueue({ studyInstanceUID: '1.2.826.0.5.2', fingerprint: 'f', source: 'feed' });
      const jobA = await store.claim({ owner: 'node-a/boot-1', leaseMs: 60_000 });
      await store.claim({ owner: 'node-ab/boot-1', leaseMs: 60_000 });
      await store.acquireFeedLease('node-b/boot-1', 15_000);
      clock.advance(4000);
      await store.nodeHeartbeat(node('node-a', 'boot-1'), 10_000);
      let nodes = await store.listNodes();
      expect(nodes.map((n) => n.nodeId)).to.deep.equal(['node-a', 'node-b']);
      expect(nodes[0]).to.deep.equal({
        ...node('node-a', 'boot-1'),
        startedAt: started,
        lastHeartbeatAt: clock.now().toISOString(),
        live: true,
        followsFeed: false,
        runningJobIds: [jobA!.id],
      });
      expect(nodes[1]).to.include({ live: true, followsFeed: true, lastHeartbeatAt: started });
      expect(nodes[1].runningJobIds).to.deep.equal([]);

      clock.advance(6000);
      nodes = await store.listNodes();
      expect(nodes.map((n) => n.live), 'node-b not heard from for its ttl').to.deep.equal([true, false]);

      await store.nodeHeartbeat({ ...node('node-a', 'boot-2'), version: '1.2.4' }, 10_000);
      const restarted = (await store.listNodes())[0];
      expect(restarted).to.include({ bootId: 'boot-2', version: '1.2.4', startedAt: clock.now().toISOString(), live: true });
      expect(restarted.runningJobIds, 'the earlier life\'s job is not this life\'s').to.deep.equal([]);
    });

    it('a stopped node is listed as stopped until it starts again; a stale life cannot mark the new one stopped; long-gone nodes are forgotten', async () => {
      const { store, clock } = context();
      await store.nodeHeartbeat(node('node-a', 'boot-1'), 10_000);
      await store.nodeHeartbeat(node('node-b', 'boot-1'), 10_000);
      clock.advance(1000);
      await store.nodeStopped('node-a', 'boot-1');
      await store.nodeStopped('node-b', 'boot-0');
      const [a, b] = await store.listNodes();
      expect(a).to.include({ live: false, stoppedAt: clock.now().toISOString() });
      expect(b.live).to.equal(true);
      expect(b.stoppedAt).to.equal(undefined);
      await store.nodeHeartbeat(node('node-a', 'boot-2'), 10_000);
      expect((await store.listNodes())[0].stoppedAt, 'started again').to.equal(undefined);
      clock.advance(8 * 24 * 3600_000);
      await store.nodeHeartbeat(node('node-c', 'boot-1'), 10_000);
      expect((await store.listNodes()).map((n) => n.nodeId), 'a and b not heard from for a week').to.deep.equal(['node-c']);
    });
  });
}
