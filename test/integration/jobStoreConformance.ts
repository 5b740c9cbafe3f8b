/**
 * The job store contract (src/jobs/jobStore.ts) as a test suite that any adapter must pass.
 * Run it with a factory that makes a fresh, empty store on the given clock, and can open a second
 * store on the same database (a second node), on the same clock:
 *
 *   describeJobStoreConformance('SQLite', async (clock) => {
 *     const open = () => Promise.resolve(new SqliteJobStore({ path: tmp, now: clock.now }));
 *     return { store: await open(), sameDatabase: open };
 *   });
 *
 * SQLite (jobStore.test.ts) and PostgreSQL (jobStorePostgres.test.ts) run the very same suite.
 */
import { expect } from 'chai';
import type { EnqueueRequest, JobStore } from '../../src/jobs/jobStore';
import { describeSeveralNodes } from './jobStoreNodesConformance';

export interface TestClock {
  now: () => Date;
  advance(ms: number): void;
}

export function makeTestClock(start = Date.parse('2024-05-01T08:00:00Z')): TestClock {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export interface OpenedJobStore {
  store: JobStore;
  /** Another store on the same database, as a second node would open it (the caller closes it). */
  sameDatabase(): Promise<JobStore>;
}

export type JobStoreFactory = (clock: TestClock) => Promise<OpenedJobStore>;

const STUDY_A = '1.2.826.0.1.1';
const STUDY_B = '1.2.826.0.1.2';

function request(studyInstanceUID: string, fingerprint = 'fp-1', extra: Partial<EnqueueRequest> = {}): EnqueueRequest {
  return { studyInstanceUID, fingerprint, source: 'feed', ...extra };
}

export function describeJobStoreConformance(adapter: string, factory: JobStoreFactory): void {
  describe(`job store conformance: ${adapter}`, () => {
    let store: JobStore;
    let clock: TestClock;
    let opened: OpenedJobStore;
    beforeEach(async () => {
      clock = makeTestClock();
      opened = await factory(clock);
      store = opened.store;
    });
    afterEach(async () => {
      await store.close();
    });

    describe('enqueue', () => {
      it('creates a queued job, and recognises the same study content instead of queueing it twice', async () => {
        const first = await store.enqueue(request(STUDY_A, 'fp-1', { orthancStudyId: 'orthanc-a' }));
        expect(first.created).to.equal(true);
        expect(first.job).to.include({ studyInstanceUID: STUDY_A, fingerprint: 'fp-1', state: 'queued', attempts: 0, source: 'feed', orthancStudyId: 'orthanc-a' });
        const again = await store.enqueue(request(STUDY_A, 'fp-1', { source: 'webhook' }));
        expect(again.created).to.equal(false);
        expect(again.job.id).to.equal(first.job.id);
        expect(again.job.source, 'the original job is returned untouched').to.equal('feed');
        const events = await store.listIntakeEvents();
        expect(events.map((e) => [e.outcome, e.source, e.jobId])).to.deep.equal([
          ['recognised', 'webhook', first.job.id],
          ['enqueued', 'feed', first.job.id],
        ]);
      });

      it('treats new content of the same study (a new fingerprint) as new work', async () => {
        const first = await store.enqueue(request(STUDY_A, 'fp-1'));
        const grown = await store.enqueue(request(STUDY_A, 'fp-2'));
        expect(grown.created).to.equal(true);
        expect(grown.job.id).to.not.equal(first.job.id);
        const page = await store.list({ studyInstanceUID: STUDY_A });
        expect(page.jobs.map((j) => j.fingerprint)).to.deep.equal(['fp-2', 'fp-1']);
      });

      it('recognises a finished job too: same content is never analysed twice by intake', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        const claimed = await store.claim({ owner: 'w1', leaseMs: 60_000 });
        expect(claimed?.id).to.equal(job.id);
        await store.complete(job.id, 'w1', { outcome: { label: 'low' }, resultUids: ['2.25.1'] });
        const again = await store.enqueue(request(STUDY_A));
        expect(again.created).to.equal(false);
        expect(again.job.state).to.equal('done');
      });
    });

    describe('claim and lease', () => {
      it('claims the oldest due job, counts the attempt and sets a lease', async () => {
        const a = await store.enqueue(request(STUDY_A));
        clock.advance(1000);
        await store.enqueue(request(STUDY_B));
        const job = await store.claim({ owner: 'worker-1', leaseMs: 30_000 });
        expect(job?.id).to.equal(a.job.id);
        expect(job).to.include({ state: 'running', attempts: 1, leaseOwner: 'worker-1' });
        expect(Date.parse(job?.leaseExpiresAt ?? '')).to.equal(clock.now().getTime() + 30_000);
        expect(job?.startedAt).to.equal(clock.now().toISOString());
      });

      it('returns nothing when no job is due, and honours notBefore', async () => {
        expect(await store.claim({ owner: 'w', leaseMs: 1000 })).to.equal(undefined);
        await store.enqueue(request(STUDY_A, 'fp', { notBefore: new Date(clock.now().getTime() + 5000) }));
        expect(await store.claim({ owner: 'w', leaseMs: 1000 })).to.equal(undefined);
        clock.advance(5000);
        expect((await store.claim({ owner: 'w', leaseMs: 1000 }))?.studyInstanceUID).to.equal(STUDY_A);
      });

      it('never hands one job to two concurrent claimers', async () => {
        for (let i = 0; i < 5; i++) await store.enqueue(request(`1.2.3.${i}`));
        const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claim({ owner: `w${i}`, leaseMs: 60_000 })));
        const ids = claims.filter((j) => j !== undefined).map((j) => j.id);
        expect(ids).to.have.length(5);
        expect(new Set(ids).size).to.equal(5);
      });

      it('heartbeat extends the lease; an expired lease is reclaimed and the old owner is locked out', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'crashed', leaseMs: 10_000 });
        clock.advance(8000);
        expect(await store.heartbeat(job.id, 'crashed', 10_000)).to.equal(true);
        clock.advance(8000);
        expect(await store.claim({ owner: 'other', leaseMs: 10_000 }), 'lease still valid after the heartbeat').to.equal(undefined);
        clock.advance(2001);
        const reclaimed = await store.claim({ owner: 'other', leaseMs: 10_000 });
        expect(reclaimed).to.include({ id: job.id, leaseOwner: 'other', attempts: 2, state: 'running' });
        expect(await store.heartbeat(job.id, 'crashed', 10_000)).to.equal(false);
        expect(await store.complete(job.id, 'crashed', { outcome: 'stale' })).to.equal(false);
        expect(await store.skip(job.id, 'crashed', { code: 'x', message: 'stale' })).to.equal(false);
        expect((await store.get(job.id))?.state).to.equal('running');
      });
    });

    describe('a restarted node frees what its earlier lives held', () => {
      it('releaseEarlierLives: running jobs of earlier lives of this node go back to the queue at once, due now, attempt kept, reason set', async () => {
        for (const study of [STUDY_A, STUDY_B, '1.2.826.0.1.3', '1.2.826.0.1.4']) await store.enqueue(request(study));
        const earlierLife = await store.claim({ owner: 'node-a/boot-1', leaseMs: 30_000 });
        const otherNode = await store.claim({ owner: 'node-ab/boot-1', leaseMs: 30_000 });
        const thisLife = await store.claim({ owner: 'node-a/boot-2', leaseMs: 30_000 });
        const reason = { code: 'node-restarted', message: 'the node stopped during this attempt' };
        const freed = await store.releaseEarlierLives('node-a/', 'node-a/boot-2', reason);
        expect(freed.map((job) => job.id)).to.deep.equal([earlierLife!.id]);
        expect(freed[0]).to.deep.include({ state: 'queued', attempts: 1, reason });
        expect(freed[0].leaseOwner).to.equal(undefined);
        expect((await store.get(otherNode!.id))?.state, 'another node whose id shares the prefix text').to.equal('running');
        expect((await store.get(thisLife!.id))?.leaseOwner, 'the current life keeps its job').to.equal('node-a/boot-2');
        // Due at once, long before its 30 s lease would have run out; the queued job left waits behind it.
        const next = await store.claim({ owner: 'node-a/boot-2', leaseMs: 30_000 });
        expect(next).to.include({ id: earlierLife!.id, attempts: 2 });
        expect(await store.releaseEarlierLives('node-a/', 'node-a/boot-2', reason), 'nothing left to free').to.deep.equal([]);
      });
    });

    describe('finishing a job', () => {
      it('complete: done, with outcome, result UIDs, and timings merged with those recorded on the way', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        expect(await store.recordProgress(job.id, 'w', { selection: { arterial: '1.2.3', why: ['desc'] }, timingsMs: { discover: 12 } })).to.equal(true);
        expect(await store.recordProgress(job.id, 'w', { timingsMs: { retrieve: 340 } })).to.equal(true);
        expect(await store.recordProgress(job.id, 'intruder', { timingsMs: { retrieve: 1 } })).to.equal(false);
        clock.advance(500);
        expect(await store.complete(job.id, 'w', { outcome: { label: 'high', p: 0.8 }, resultUids: ['2.25.1', '2.25.2'], timingsMs: { store: 40 } })).to.equal(true);
        const done = await store.get(job.id);
        expect(done).to.include({ state: 'done', finishedAt: clock.now().toISOString() });
        expect(done?.leaseOwner).to.equal(undefined);
        expect(done?.outcome).to.deep.equal({ label: 'high', p: 0.8 });
        expect(done?.resultUids).to.deep.equal(['2.25.1', '2.25.2']);
        expect(done?.selection).to.deep.equal({ arterial: '1.2.3', why: ['desc'] });
        expect(done?.timingsMs).to.deep.equal({ discover: 12, retrieve: 340, store: 40 });
        expect(await store.complete(job.id, 'w', { outcome: 'again' }), 'a finished job cannot be completed twice').to.equal(false);
      });

      it('markSuperseded: a done job\'s outcome.results gets supersededBy once; the first record stays', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        const by = { jobId: 99, srSopInstanceUID: '2.25.9', action: 'kept' };
        expect(await store.markSuperseded(job.id, by), 'a queued job has no results').to.equal(false);
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        expect(await store.markSuperseded(job.id, by), 'nor has a running one').to.equal(false);
        await store.complete(job.id, 'w', { outcome: { label: 'low', results: { srSopInstanceUID: '2.25.1' } }, resultUids: ['2.25.1'] });
        clock.advance(1000);
        expect(await store.markSuperseded(job.id, by)).to.equal(true);
        const marked = await store.get(job.id);
        expect(marked?.outcome).to.deep.equal({ label: 'low', results: { srSopInstanceUID: '2.25.1', supersededBy: by } });
        expect(marked?.updatedAt).to.equal(clock.now().toISOString());
        expect(marked?.resultUids).to.deep.equal(['2.25.1']);
        expect(await store.markSuperseded(job.id, { jobId: 100 }), 'marked already').to.equal(false);
        expect((await store.get(job.id))?.outcome).to.deep.equal({ label: 'low', results: { srSopInstanceUID: '2.25.1', supersededBy: by } });
        expect(await store.markSuperseded(987654, by), 'no such job').to.equal(false);
        const { job: bare } = await store.enqueue(request(STUDY_B));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        await store.complete(bare.id, 'w', { outcome: { label: 'high' } });
        expect(await store.markSuperseded(bare.id, by), 'an outcome without results').to.equal(false);
      });

      it('skip: skipped with the refusal code and message', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        expect(await store.skip(job.id, 'w', { code: 'single-phase', message: 'only a venous series' })).to.equal(true);
        expect(await store.get(job.id)).to.deep.include({ state: 'skipped', reason: { code: 'single-phase', message: 'only a venous series' } });
      });

      it('retry: back to the queue, not claimable before notBefore, reason kept for display', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        const notBefore = new Date(clock.now().getTime() + 10_000);
        expect(await store.retry(job.id, 'w', { code: 'pacs-unavailable', message: 'HTTP 503' }, notBefore)).to.equal(true);
        const queued = await store.get(job.id);
        expect(queued).to.deep.include({ state: 'queued', attempts: 1, notBefore: notBefore.toISOString(), reason: { code: 'pacs-unavailable', message: 'HTTP 503' } });
        expect(await store.claim({ owner: 'w', leaseMs: 60_000 })).to.equal(undefined);
        clock.advance(10_000);
        expect(await store.claim({ owner: 'w', leaseMs: 60_000 })).to.include({ id: job.id, attempts: 2 });
      });

      it('deadLetter: failed, with its reason', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        expect(await store.deadLetter(job.id, 'w', { code: 'attempts-exhausted', message: '5 attempts' })).to.equal(true);
        expect(await store.get(job.id)).to.deep.include({ state: 'failed', reason: { code: 'attempts-exhausted', message: '5 attempts' } });
        expect(await store.claim({ owner: 'w', leaseMs: 60_000 })).to.equal(undefined);
      });

      it('release: back to the queue at once, the attempt not counted (graceful stop)', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        expect(await store.release(job.id, 'w')).to.equal(true);
        expect(await store.get(job.id)).to.include({ state: 'queued', attempts: 0 });
        expect(await store.claim({ owner: 'w2', leaseMs: 60_000 })).to.include({ id: job.id, attempts: 1 });
      });

      it('requeue: a finished job goes back to the queue with attempts reset; a queued one is left alone', async () => {
        const { job } = await store.enqueue(request(STUDY_A));
        await store.claim({ owner: 'w', leaseMs: 60_000 });
        await store.deadLetter(job.id, 'w', { code: 'pacs-unavailable', message: 'down' });
        const requeued = await store.requeue(job.id);
        expect(requeued?.requeued).to.equal(true);
        expect(requeued?.job).to.include({ state: 'queued', attempts: 0 });
        expect(requeued?.job.reason).to.equal(undefined);
        expect((await store.requeue(job.id))?.requeued).to.equal(false);
        expect(await store.requeue(999_999)).to.equal(undefined);
      });
    });

    describe('reading', () => {
      it('lists newest first with paging and filters, and counts every state', async () => {
        for (let i = 0; i < 7; i++) await store.enqueue(request(`1.2.3.${i}`));
        const first = await store.claim({ owner: 'w', leaseMs: 60_000 });
        await store.skip(first?.id ?? 0, 'w', { code: 'not-ct', message: 'MR' });
        const page1 = await store.list({ limit: 3 });
        expect(page1.jobs.map((j) => j.studyInstanceUID)).to.deep.equal(['1.2.3.6', '1.2.3.5', '1.2.3.4']);
        const page2 = await store.list({ limit: 3, beforeId: page1.nextBeforeId });
        const page3 = await store.list({ limit: 3, beforeId: page2.nextBeforeId });
        expect(page3.jobs).to.have.length(1);
        expect(page3.nextBeforeId).to.equal(undefined);
        expect((await store.list({ state: 'skipped' })).jobs.map((j) => j.studyInstanceUID)).to.deep.equal(['1.2.3.0']);
        expect(await store.countByState()).to.deep.equal({ queued: 6, running: 0, done: 0, skipped: 1, failed: 0 });
        expect(await store.get(424242)).to.equal(undefined);
      });
    });

    describe('change cursor', () => {
      it('starts at 0 and advances with the page that enqueued, in one transaction', async () => {
        expect(await store.getChangeCursor()).to.equal(0);
        const results = await store.commitChangesPage({
          cursor: 42,
          enqueues: [request(STUDY_A), request(STUDY_B), request(STUDY_A)],
          events: [{ source: 'feed', outcome: 'study-deleted', orthancStudyId: 'gone', message: 'HTTP 404' }],
        });
        expect(results.map((r) => r.created)).to.deep.equal([true, true, false]);
        expect(await store.getChangeCursor()).to.equal(42);
        const outcomes = (await store.listIntakeEvents()).map((e) => e.outcome);
        expect(outcomes).to.have.members(['enqueued', 'enqueued', 'recognised', 'study-deleted']);
      });

      it('never moves back, unless the page says that Orthanc\'s log restarted', async () => {
        await store.commitChangesPage({ cursor: 30, enqueues: [], events: [] });
        const late = await store.commitChangesPage({ cursor: 20, enqueues: [request(STUDY_A)], events: [] });
        expect(late.map((r) => r.created), 'the late page\'s work is still taken').to.deep.equal([true]);
        expect(await store.getChangeCursor()).to.equal(30);
        await store.commitChangesPage({ cursor: 3, enqueues: [], events: [], restart: true });
        expect(await store.getChangeCursor()).to.equal(3);
      });

      it('a page that fails half-way leaves neither its jobs nor the new cursor', async () => {
        await store.commitChangesPage({ cursor: 10, enqueues: [request(STUDY_A)], events: [] });
        const broken = { studyInstanceUID: undefined, fingerprint: 'x', source: 'feed' } as unknown as EnqueueRequest;
        let failed = false;
        try {
          await store.commitChangesPage({ cursor: 20, enqueues: [request(STUDY_B), broken], events: [] });
        } catch {
          failed = true;
        }
        expect(failed).to.equal(true);
        expect(await store.getChangeCursor()).to.equal(10);
        expect((await store.list({ studyInstanceUID: STUDY_B })).jobs).to.deep.equal([]);
      });
    });

    describe('two stores racing on one database (two nodes)', () => {
      let other: JobStore;
      beforeEach(async () => {
        other = await opened.sameDatabase();
      });
      afterEach(async () => {
        await other.close();
      });

      it('the same content enqueued by both at once, singly and in change pages, gives one job per content', async () => {
        const studies = Array.from({ length: 12 }, (_, i) => `1.2.826.0.9.${i}`);
        const reversed = [...studies].reverse();
        const results = (
          await Promise.all([
            ...[store, other].flatMap((s) => studies.flatMap((study) => [s.enqueue(request(study)), s.enqueue(request(study, 'fp-1', { source: 'webhook' }))])),
            store.commitChangesPage({ cursor: 5, enqueues: studies.map((study) => request(study)), events: [] }),
            other.commitChangesPage({ cursor: 6, enqueues: reversed.map((study) => request(study)), events: [] }),
          ])
        ).flat();
        expect(results).to.have.length(studies.length * 6);
        for (const study of studies) {
          const mine = results.filter((r) => r.job.studyInstanceUID === study);
          expect(mine.filter((r) => r.created), `${study}: created once`).to.have.length(1);
          expect(new Set(mine.map((r) => r.job.id)).size, `${study}: one job`).to.equal(1);
        }
        expect(await store.countByState()).to.deep.include({ queued: studies.length });
        expect((await other.list({ limit: 500 })).jobs).to.have.length(studies.length);
        const events = await other.listIntakeEvents(1000);
        expect(events.filter((e) => e.outcome === 'enqueued')).to.have.length(studies.length);
        expect(events.filter((e) => e.outcome === 'recognised')).to.have.length(studies.length * 5);
      });

      it('claims from both at once never hand out one job twice', async () => {
        for (let i = 0; i < 15; i++) await store.enqueue(request(`1.2.826.0.8.${i}`));
        const claims = await Promise.all(
          Array.from({ length: 20 }, (_, i) => [store.claim({ owner: `a-${i}`, leaseMs: 60_000 }), other.claim({ owner: `b-${i}`, leaseMs: 60_000 })]).flat(),
        );
        const won = claims.filter((job) => job !== undefined);
        expect(won).to.have.length(15);
        expect(new Set(won.map((job) => job.id)).size).to.equal(15);
        for (const job of won) expect((await other.get(job.id))?.leaseOwner, `job ${job.id} held by its claimer`).to.equal(job.leaseOwner);
        expect(await store.countByState()).to.deep.include({ queued: 0, running: 15 });
        // A job whose lease ran out is taken over by the other node, once.
        clock.advance(60_001);
        const takeovers = (await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? store : other).claim({ owner: `c-${i}`, leaseMs: 60_000 })))).filter((j) => j !== undefined);
        expect(new Set(takeovers.map((job) => job.id)).size).to.equal(15);
        expect(takeovers.every((job) => job.attempts === 2)).to.equal(true);
      });

      it('the change cursor never moves back when both commit pages at once', async () => {
        const writer = async (s: JobStore, cursors: number[]): Promise<number[]> => {
          const seen: number[] = [];
          for (const cursor of cursors) {
            await s.commitChangesPage({ cursor, enqueues: [request(`1.2.826.0.7.${(cursor / 5) % 5}`)], events: [] });
            const now = await s.getChangeCursor();
            expect(now, 'at least what this writer committed').to.be.at.least(cursor);
            seen.push(now);
          }
          return seen;
        };
        const [seenByA, seenByB] = await Promise.all([writer(store, [10, 20, 30, 40, 50, 60]), writer(other, [5, 15, 25, 35, 45, 55])]);
        for (const seen of [seenByA, seenByB]) expect(seen, 'each writer sees it only grow').to.deep.equal([...seen].sort((a, b) => a - b));
        expect(await store.getChangeCursor()).to.equal(60);
        await other.commitChangesPage({ cursor: 42, enqueues: [], events: [] });
        expect(await store.getChangeCursor(), 'a stale writer does not pull it back').to.equal(60);
        expect((await store.list()).jobs, 'the pages\' work is all there').to.have.length(5);
      });
    });

    describeSeveralNodes(() => ({ store, clock, opened }));
  });
}
