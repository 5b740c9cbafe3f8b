/**
 * Which earlier result a new one supersedes, and how it is recorded (src/pipeline/supersede.ts):
 * the newest done job of the study whose SR is in the PACS and is not the new SR; every done job
 * holding that SR is marked superseded in a real SQLite job store, once.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SOP_CLASS } from '../../../src/dicom/dictionary';
import type { Job, JsonValue } from '../../../src/jobs/jobStore';
import { SqliteJobStore } from '../../../src/jobs/sqliteJobStore';
import { outcomeResultsOf, previousResultOf, recordedSupersedes, supersedePrevious } from '../../../src/pipeline/supersede';

const STUDY = '1.2.3';

function results(n: number): { sr: string; uids: string[]; outcome: JsonValue } {
  const sr = `2.25.${n}1`;
  const uids = [sr, `2.25.${n}2`, `2.25.${n}3`];
  return { sr, uids, outcome: { label: 'low', results: { srSeriesInstanceUID: `2.25.${n}0`, srSopInstanceUID: sr, scSopInstanceUID: uids[1], segSopInstanceUID: uids[2], storedToPacs: true } } };
}

function job(id: number, n: number, overrides: Partial<Job> = {}): Job {
  const r = results(n);
  return { id, studyInstanceUID: STUDY, fingerprint: `fp-${id}`, source: 'feed', state: 'done', attempts: 1, createdAt: '', updatedAt: '', outcome: r.outcome, resultUids: r.uids, ...overrides };
}

describe('pipeline/supersede: the standing earlier result and its superseded mark', () => {
  it('previousResultOf: the newest done job with another SR that is still in the PACS', () => {
    const present = new Set([...results(1).uids, ...results(2).uids]);
    const jobs = [job(3, 2), job(2, 1), job(1, 1)];
    expect(previousResultOf(jobs, present, results(3).sr)).to.deep.equal({
      job: jobs[0],
      sr: { studyInstanceUID: STUDY, seriesInstanceUID: '2.25.20', sopClassUID: SOP_CLASS.comprehensive3dSrStorage, sopInstanceUID: results(2).sr },
    });
    // The SR about to be written is its own result: the one before stands beside it.
    expect(previousResultOf(jobs, present, results(2).sr)?.job.id).to.equal(2);
    // A job that repeated an earlier job's outcome (our own results came back): the job that made the result.
    const repeat = job(4, 2, { outcome: { ...(results(2).outcome as Record<string, JsonValue>), sameAsJobId: 3 } });
    expect(previousResultOf([repeat, ...jobs], present, results(3).sr)?.job.id).to.equal(3);
    // A re-run of the newest result with the same input and models supersedes nothing new but what it named already.
    expect(previousResultOf([job(1, 1)], present, results(1).sr)).to.equal(undefined);
    // Gone from the PACS (deleted, or never stored), failed, or the job asking: not a predecessor.
    expect(previousResultOf(jobs, new Set(results(1).uids.slice(1)), results(3).sr)).to.equal(undefined);
    expect(previousResultOf([job(2, 1, { resultUids: [] })], present, results(3).sr)).to.equal(undefined);
    expect(previousResultOf([job(2, 1, { state: 'failed' })], present, results(3).sr)).to.equal(undefined);
    expect(previousResultOf([job(2, 1)], present, results(3).sr, 2)).to.equal(undefined);
    expect(previousResultOf([job(2, 1, { outcome: { label: 'low' } })], present, results(3).sr)).to.equal(undefined);
  });

  it('recordedSupersedes: a re-run of a superseding result says again what it superseded, from the earlier job\'s mark', () => {
    const marked = (action: string): Job => {
      const j = job(1, 1);
      const outcome = j.outcome as { results: Record<string, JsonValue> };
      outcome.results.supersededBy = { jobId: 2, srSopInstanceUID: results(2).sr, at: '2026-12-07T12:00:00.000Z', action };
      return j;
    };
    expect(recordedSupersedes([job(2, 2), marked('kept')], results(2).sr)).to.deep.equal({
      jobId: 1,
      srSopInstanceUID: results(1).sr,
      instances: results(1).uids,
      action: 'kept',
      recordedAt: '2026-12-07T12:00:00.000Z',
    });
    expect(recordedSupersedes([marked('deleted')], results(2).sr)).to.deep.include({ action: 'deleted', deleted: results(1).uids });
    expect(recordedSupersedes([marked('kept')], results(3).sr), 'another SR superseded nothing').to.equal(undefined);
    expect(recordedSupersedes([job(1, 1)], results(2).sr)).to.equal(undefined);
  });

  describe('supersedePrevious with a real SQLite store (mode keep)', () => {
    let dir: string;
    let store: SqliteJobStore;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-supersede-'));
      store = new SqliteJobStore({ path: dir, now: () => new Date('2026-12-07T12:00:00Z') });
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function doneJob(fingerprint: string, n: number): Promise<Job> {
      const { job: queued } = await store.enqueue({ studyInstanceUID: STUDY, fingerprint, source: 'feed' });
      await store.claim({ owner: 'w', leaseMs: 60_000 });
      const r = results(n);
      await store.complete(queued.id, 'w', { outcome: r.outcome, resultUids: r.uids });
      return (await store.get(queued.id))!;
    }

    it('marks every done job holding the earlier SR (the original and the one that repeated it), once, and says what it superseded', async () => {
      const first = await doneJob('fp-a', 1);
      const repeat = await doneJob('fp-a+results', 1);
      const jobs = (await store.list({ studyInstanceUID: STUDY })).jobs;
      const previous = previousResultOf(jobs, new Set(results(1).uids), results(2).sr, 99)!;
      expect(previous.job.id).to.equal(repeat.id);
      const now = (): Date => new Date('2026-12-07T12:34:56Z');
      const supersedes = await supersedePrevious({ store, mode: 'keep', jobId: 99, srSopInstanceUID: results(2).sr, previous, jobs, now });
      expect(supersedes).to.deep.equal({ jobId: repeat.id, srSopInstanceUID: results(1).sr, instances: [results(1).uids[1], results(1).uids[2], results(1).sr], action: 'kept' });
      const by = { jobId: 99, srSopInstanceUID: results(2).sr, at: '2026-12-07T12:34:56.000Z', action: 'kept' };
      for (const id of [first.id, repeat.id]) expect(outcomeResultsOf((await store.get(id))!)?.supersededBy).to.deep.equal(by);
      // A later re-run of the same new result: the first mark stays.
      await supersedePrevious({ store, mode: 'keep', jobId: 100, srSopInstanceUID: results(2).sr, previous, jobs, now });
      expect(outcomeResultsOf((await store.get(first.id))!)?.supersededBy).to.deep.equal(by);
    });

    it('mode delete without a PACS client that can delete is an error, before anything is marked', async () => {
      const first = await doneJob('fp-a', 1);
      const jobs = (await store.list({ studyInstanceUID: STUDY })).jobs;
      const previous = previousResultOf(jobs, new Set(results(1).uids), results(2).sr)!;
      let failed = false;
      await supersedePrevious({ store, mode: 'delete', jobId: 99, srSopInstanceUID: results(2).sr, previous, jobs }).catch(() => (failed = true));
      expect(failed).to.equal(true);
      expect(outcomeResultsOf((await store.get(first.id))!)?.supersededBy).to.equal(undefined);
    });
  });
});
