/**
 * The worker loop with plain handlers against the real SQLite job store.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnalysisRefusedError, PermanentError, TransientError } from '../../src/errors';
import type { Job } from '../../src/jobs/jobStore';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { Worker, type AttemptResult, type JobHandler, type WorkerOptions } from '../../src/jobs/worker';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('jobs/worker with the SQLite store', () => {
  let dir: string;
  let store: SqliteJobStore;
  let worker: Worker | undefined;
  let clockOffsetMs: number;
  const ended: Array<[number, AttemptResult]> = [];

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-worker-'));
    clockOffsetMs = 0;
    store = new SqliteJobStore({ path: dir, now: () => new Date(Date.now() + clockOffsetMs) });
    ended.length = 0;
  });
  afterEach(async () => {
    await worker?.stop({ timeoutMs: 2000 });
    worker = undefined;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function startWorker(handler: JobHandler, options: Partial<WorkerOptions> = {}): Worker {
    worker = new Worker({
      store,
      handler,
      concurrency: 1,
      leaseMs: 60_000,
      maxAttempts: 3,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 100,
      pollIntervalMs: 10,
      onAttemptEnd: (job, result) => void ended.push([job.id, result]),
      ...options,
    });
    worker.start();
    return worker;
  }

  async function enqueue(n: number): Promise<Job[]> {
    const jobs: Job[] = [];
    for (let i = 0; i < n; i++) jobs.push((await store.enqueue({ studyInstanceUID: `1.2.9.${i}`, fingerprint: 'f', source: 'manual' })).job);
    return jobs;
  }

  it('runs every job with at most `concurrency` at once, and stores outcomes and progress', async () => {
    await enqueue(6);
    let active = 0;
    let maxActive = 0;
    startWorker(
      async (job, ctx) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await ctx.recordProgress({ selection: { study: job.studyInstanceUID }, timingsMs: { discover: 1 } });
        await sleep(30);
        active--;
        return { outcome: { label: 'low' }, resultUids: [`2.25.${job.id}`], timingsMs: { classify: 2 } };
      },
      { concurrency: 2 },
    );
    await until(async () => (await store.countByState()).done === 6, 'all jobs done');
    expect(maxActive).to.equal(2);
    const job = (await store.list({ state: 'done', limit: 1 })).jobs[0];
    expect(job.outcome).to.deep.equal({ label: 'low' });
    expect(job.resultUids).to.deep.equal([`2.25.${job.id}`]);
    expect(job.selection).to.deep.equal({ study: job.studyInstanceUID });
    expect(job.timingsMs).to.deep.equal({ discover: 1, classify: 2 });
  });

  it('AnalysisRefusedError: skipped with its code, not retried', async () => {
    const [job] = await enqueue(1);
    let calls = 0;
    startWorker(() => {
      calls++;
      return Promise.reject(new AnalysisRefusedError('single-phase', 'only a venous series was found'));
    });
    await until(async () => (await store.get(job.id))?.state === 'skipped', 'skipped');
    expect(await store.get(job.id)).to.deep.include({ reason: { code: 'single-phase', message: 'only a venous series was found' }, attempts: 1 });
    await sleep(60);
    expect(calls).to.equal(1);
  });

  it('TransientError: retried with backoff, then dead-lettered when attempts are exhausted', async () => {
    const [job] = await enqueue(1);
    const callTimes: number[] = [];
    startWorker(() => {
      callTimes.push(Date.now());
      return Promise.reject(new TransientError('HTTP 503 from the PACS'));
    });
    await until(async () => (await store.get(job.id))?.state === 'failed', 'dead letter');
    const failed = await store.get(job.id);
    expect(failed?.attempts).to.equal(3);
    expect(failed?.reason?.code).to.equal('attempts-exhausted');
    expect(failed?.reason?.message).to.match(/HTTP 503/);
    expect(callTimes).to.have.length(3);
    expect(ended.map(([, r]) => r)).to.deep.equal(['retry', 'retry', 'failed']);
    // Backoff: 20 ms then 40 ms at least between attempts.
    expect(callTimes[1] - callTimes[0]).to.be.at.least(19);
    expect(callTimes[2] - callTimes[1]).to.be.at.least(39);
  });

  it('a transient failure followed by success ends done, on attempt 2', async () => {
    const [job] = await enqueue(1);
    let calls = 0;
    startWorker(() => (++calls === 1 ? Promise.reject(new TransientError('reset')) : Promise.resolve({ outcome: 'ok' })));
    await until(async () => (await store.get(job.id))?.state === 'done', 'done');
    expect((await store.get(job.id))?.attempts).to.equal(2);
  });

  describe('an outage of the PACS (the dependency) is waited out, not counted', () => {
    it('while the PACS does not answer: the job goes back uncounted, nothing is claimed, the worker says why; it resumes by itself and the job ends done', async () => {
      const [job, other] = await enqueue(2);
      let pacsUp = false;
      let probes = 0;
      let handled = 0;
      const w = startWorker(
        () => {
          handled++;
          if (!pacsUp) return Promise.reject(new TransientError('connect ECONNREFUSED 127.0.0.1:8042'));
          return Promise.resolve({ outcome: { label: 'low' } });
        },
        {
          maxAttempts: 2,
          dependency: { name: 'the PACS', check: () => (probes++, pacsUp ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED'))) },
          dependencyProbe: { firstDelayMs: 20, maxDelayMs: 40 },
        },
      );
      await until(() => w.waitingFor !== undefined, 'the worker to wait for the PACS');
      expect(w.waitingFor).to.include({ name: 'the PACS' });
      expect(w.waitingFor?.message).to.include('ECONNREFUSED');
      // Far longer than the retries would take: nothing is claimed, no attempt spent, nothing failed.
      await until(() => probes >= 6, 'several probes');
      expect(handled, 'no job claimed while waiting').to.equal(1);
      expect(ended).to.deep.equal([[job.id, 'waiting']]);
      expect(await store.get(job.id)).to.include({ state: 'queued', attempts: 0 });
      expect((await store.get(other.id))?.state).to.equal('queued');
      pacsUp = true;
      await until(async () => (await store.get(other.id))?.state === 'done', 'both jobs done after the outage');
      expect(await store.get(job.id)).to.include({ state: 'done', attempts: 1 });
      expect(w.waitingFor).to.equal(undefined);
    });

    it("while the PACS answers, a transient failure is the job's own: counted and dead-lettered as before", async () => {
      const [job] = await enqueue(1);
      startWorker(
        () => Promise.reject(new TransientError('HTTP 500 from WADO-RS for this series')),
        { maxAttempts: 2, dependency: { name: 'the PACS', check: () => Promise.resolve() } },
      );
      await until(async () => (await store.get(job.id))?.state === 'failed', 'the job to be dead-lettered');
      expect(await store.get(job.id)).to.deep.include({ attempts: 2, reason: { code: 'attempts-exhausted', message: '2 attempts; last: HTTP 500 from WADO-RS for this series' } });
    });

    it('a hung PACS (a probe without an answer) counts as down', async () => {
      const [job] = await enqueue(1);
      const w = startWorker(() => Promise.reject(new TransientError('no answer for 60000 ms')), {
        dependency: { name: 'the PACS', check: () => new Promise<void>(() => undefined) },
        dependencyProbe: { timeoutMs: 50, firstDelayMs: 1000 },
      });
      await until(() => w.waitingFor !== undefined, 'the worker to wait for the PACS');
      expect(w.waitingFor?.message).to.include('no answer within 50 ms');
      expect(await store.get(job.id)).to.include({ state: 'queued', attempts: 0 });
    });
  });

  it('PermanentError and defects are dead-lettered at once', async () => {
    const [a, b] = await enqueue(2);
    startWorker((job) => Promise.reject(job.id === a.id ? new PermanentError('HTTP 401 from the PACS') : new TypeError('cannot read x of undefined')));
    await until(async () => (await store.countByState()).failed === 2, 'both failed');
    expect(await store.get(a.id)).to.deep.include({ attempts: 1, reason: { code: 'permanent-error', message: 'HTTP 401 from the PACS' } });
    expect((await store.get(b.id))?.reason?.code).to.equal('internal-error');
  });

  it('stop() lets a running job finish', async () => {
    const [job] = await enqueue(1);
    let started = false;
    const w = startWorker(async () => {
      started = true;
      await sleep(100);
      return { outcome: 'finished during stop' };
    });
    await until(() => started, 'job started');
    await w.stop({ timeoutMs: 5000 });
    expect(await store.get(job.id)).to.include({ state: 'done', outcome: 'finished during stop' });
  });

  it('stop() past its timeout aborts the handler and returns the job to the queue, attempt not counted', async () => {
    const [job] = await enqueue(1);
    let sawAbort = false;
    const w = startWorker(
      (_job, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(ctx.signal.reason as Error);
          });
        }),
    );
    await until(async () => (await store.get(job.id))?.state === 'running', 'running');
    await w.stop({ timeoutMs: 50 });
    expect(sawAbort).to.equal(true);
    expect(await store.get(job.id)).to.include({ state: 'queued', attempts: 0 });
    expect(ended.map(([, r]) => r)).to.deep.equal(['released']);
  });

  it("a crashed worker's job comes back when its lease expires", async () => {
    const [job] = await enqueue(1);
    await store.claim({ owner: 'crashed-node', leaseMs: 150 });
    startWorker(() => Promise.resolve({ outcome: 'recovered' }));
    await until(async () => (await store.get(job.id))?.state === 'done', 'done after lease expiry');
    expect(await store.get(job.id)).to.include({ attempts: 2, outcome: 'recovered' });
  });

  it('a job whose worker died more often than maxAttempts is dead-lettered without running', async () => {
    const [job] = await enqueue(1);
    for (let i = 0; i < 3; i++) {
      await store.claim({ owner: `dying-${i}`, leaseMs: 1000 });
      clockOffsetMs += 1001;
    }
    let calls = 0;
    startWorker(() => {
      calls++;
      return Promise.resolve({});
    });
    await until(async () => (await store.get(job.id))?.state === 'failed', 'dead letter');
    expect(calls).to.equal(0);
    expect(await store.get(job.id)).to.deep.include({ attempts: 4 });
    expect((await store.get(job.id))?.reason?.code).to.equal('attempts-exhausted');
  });

  it('a worker that loses its lease aborts the handler and records nothing', async () => {
    const [job] = await enqueue(1);
    let aborted = false;
    startWorker(
      (_job, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new TransientError('aborted'));
          });
        }),
      { leaseMs: 300 },
    );
    await until(async () => (await store.get(job.id))?.state === 'running', 'running');
    // The store's clock jumps past the lease; another node takes the job.
    clockOffsetMs += 10_000;
    const stolen = await store.claim({ owner: 'other-node', leaseMs: 60_000 });
    expect(stolen?.id).to.equal(job.id);
    await until(() => aborted, 'handler aborted');
    await until(() => ended.length === 1, 'attempt ended');
    expect(ended[0][1]).to.equal('lease-lost');
    expect(await store.get(job.id)).to.include({ state: 'running', leaseOwner: 'other-node' });
  });

  it('a worker whose lease renewals fail (the store does not answer) abandons the job before its lease can run out', async () => {
    const [job] = await enqueue(1);
    let abortedAfterMs: number | undefined;
    let started = 0;
    let storeAway = false;
    // The store answers every call but the job's heartbeat while it is "away".
    const flaky = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'heartbeat' && storeAway) return () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    startWorker(
      (_job, ctx) =>
        new Promise((_resolve, reject) => {
          started = performance.now();
          storeAway = true;
          ctx.signal.addEventListener('abort', () => {
            abortedAfterMs = performance.now() - started;
            reject(new TransientError('aborted'));
          });
        }),
      { store: flaky, leaseMs: 900 },
    );
    await until(() => ended.length === 1, 'attempt ended', 5000);
    expect(ended[0][1]).to.equal('lease-lost');
    expect(abortedAfterMs, 'abandoned before the 900 ms lease ran out').to.be.below(900);
    expect(abortedAfterMs, 'after the renewals had failed').to.be.at.least(550);
    // Nothing recorded: the job is still running under the old lease until the store's clock passes it.
    expect(await store.get(job.id)).to.include({ state: 'running', attempts: 1 });
  });
});
