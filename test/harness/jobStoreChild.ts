/**
 * A separate process that works on a job store, for tests that kill it mid-write or run two of
 * them at once. Run with: node --require tsx/cjs test/harness/jobStoreChild.ts MODE STORE [OWNER]
 * STORE is a SQLite file, or a postgres:// URL (the test's own throwaway database).
 *   writer:  enqueue, claim, record progress, complete, forever; prints "committed <id> <state>"
 *            after each committed step, so the parent knows what must survive a kill -9.
 *   claimer: claims and completes jobs until none is left; prints "claimed <id>".
 *   holder:  claims one job with a 1.5 s lease, prints "claimed <id>", and waits to be killed.
 */
import type { JobStore } from '../../src/jobs/jobStore';
import { PostgresJobStore } from '../../src/jobs/postgresJobStore';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';

function openStore(target: string): Promise<JobStore> {
  return /^postgres(ql)?:/.test(target) ? PostgresJobStore.open({ url: target }) : Promise.resolve(new SqliteJobStore({ path: target }));
}

async function main(): Promise<void> {
  const [mode, file, ownerArg] = process.argv.slice(2);
  const store = await openStore(file);
  const owner = ownerArg ?? `child-${process.pid}`;
  // Large enough that a transaction spans several pages of the database file.
  const bulky = { why: Array.from({ length: 400 }, (_, i) => `rule ${i} passed: ${'x'.repeat(80)}`) };
  if (mode === 'writer') {
    for (let i = 0; ; i++) {
      const { job } = await store.enqueue({ studyInstanceUID: `1.2.3.${process.pid}.${i}`, fingerprint: `fp-${i}`, source: 'feed' });
      console.log(`committed ${job.id} queued`);
      const claimed = await store.claim({ owner, leaseMs: 60_000 });
      if (!claimed) throw new Error('nothing to claim');
      console.log(`committed ${claimed.id} running`);
      await store.recordProgress(claimed.id, owner, { selection: bulky, timingsMs: { discover: i } });
      await store.complete(claimed.id, owner, { outcome: { i, bulky }, resultUids: [`2.25.${i}`] });
      console.log(`committed ${claimed.id} done`);
    }
  }
  if (mode === 'claimer') {
    for (;;) {
      const job = await store.claim({ owner, leaseMs: 60_000 });
      if (!job) break;
      console.log(`claimed ${job.id}`);
      await store.complete(job.id, owner, { outcome: { by: owner } });
    }
    await store.close();
    return;
  }
  if (mode === 'holder') {
    const job = await store.claim({ owner, leaseMs: 1500 });
    console.log(`claimed ${job?.id}`);
    setInterval(() => undefined, 60_000);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
