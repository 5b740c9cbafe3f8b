/**
 * The job store contract (src/jobs/jobStore.ts) as a test suite that any adapter must pass.
 * Run it with a factory that makes a fresh, empty store on the given clock:
 *
 *   describeJobStoreConformance('SQLite', async (clock) => new SqliteJobStore({ path: tmp, now: clock.now }));
 *
 * A PostgreSQL adapter runs the very same suite.
 */
import { expect } from 'chai';
import type { EnqueueRequest, JobStore } from '../../src/jobs/jobStore';

export interface TestClock {
  now: () => Date;
  advance(ms: number): void;
}

export function makeTestClock(start = Date.parse('2024-05-01T08:00:00Z')): TestClock {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export type JobStoreFactory = (clock: TestClock) => Promise<JobStore>;

const STUDY_A = '1.2.826.0.1.1';
const STUDY_B = '1.2.826.0.1.2';

function request(studyInstanceUID: string, fingerprint = 'fp-1', extra: Partial<EnqueueRequest> = {}): EnqueueRequest {
  return { studyInstanceUID, fingerprint, source: 'feed', ...extra };
}

export function describeJobStoreConformance(adapter: string, factory: JobStoreFactory): void {
  describe(`job store conformance: ${adapter}`, () => {
    let store: JobStore;
    let clock: TestClock;
    beforeEach(async () => {
      clock = makeTestClock();
      store = await factory(clock);
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
  });
}
