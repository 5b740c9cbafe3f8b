/**
 * The SQLite job store: the shared conformance suite, plus what only a file-backed store can
 * show: data survives reopening, a `kill -9` in the middle of writes leaves a consistent
 * database with every committed step, and two processes never claim the same job.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { describeJobStoreConformance, makeTestClock } from './jobStoreConformance';

const CHILD = path.join(__dirname, '../harness/jobStoreChild.ts');
const TSX = require.resolve('tsx/cjs');

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-jobs-'));
  dirs.push(dir);
  return dir;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describeJobStoreConformance('SQLite', (clock) => {
  const dir = tempDir();
  const open = (): Promise<SqliteJobStore> => Promise.resolve(new SqliteJobStore({ path: dir, now: clock.now }));
  return open().then((store) => ({ store, sameDatabase: open }));
});

describe('SQLite job store: durability', () => {
  it('keeps jobs and the change cursor across close and reopen, in the data folder', async () => {
    const dir = tempDir();
    const clock = makeTestClock();
    const first = new SqliteJobStore({ path: dir, now: clock.now });
    expect(first.file).to.equal(path.join(dir, 'jobs.sqlite'));
    await first.commitChangesPage({ cursor: 7, enqueues: [{ studyInstanceUID: '1.2.3', fingerprint: 'f', source: 'feed' }], events: [] });
    await first.close();
    const second = new SqliteJobStore({ path: dir, now: clock.now });
    expect(await second.getChangeCursor()).to.equal(7);
    expect((await second.list()).jobs.map((j) => j.studyInstanceUID)).to.deep.equal(['1.2.3']);
    await second.close();
  });

  it('survives kill -9 of a process in the middle of writing: consistent, nothing committed lost, nothing half-written', async function () {
    this.timeout(60_000);
    const file = path.join(tempDir(), 'jobs.sqlite');
    const child = spawn(process.execPath, ['--require', TSX, CHILD, 'writer', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const committed = new Map<number, string>();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          const [, id, state] = line.split(' ');
          committed.set(Number(id), state);
        }
        // Kill while it is busy writing, after a good number of steps.
        if (committed.size >= 60) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code}): ${stderr}`));
      });
    });
    await new Promise((r) => child.once('close', r));

    const store = new SqliteJobStore({ path: file });
    expect(store.integrityCheck()).to.equal('ok');
    const all = (await store.list({ limit: 500 })).jobs;
    const byId = new Map(all.map((j) => [j.id, j]));
    const order = ['queued', 'running', 'done'];
    for (const [id, state] of committed) {
      const job = byId.get(id);
      expect(job, `job ${id} committed as ${state} must exist`).to.not.equal(undefined);
      expect(order.indexOf(job?.state ?? ''), `job ${id} is at least ${state}`).to.be.at.least(order.indexOf(state));
    }
    for (const job of all) {
      // No half-written job: each state has exactly the fields it implies.
      if (job.state === 'done') {
        expect(job.finishedAt, `done job ${job.id}`).to.be.a('string');
        expect((job.outcome as { bulky: { why: string[] } }).bulky.why, `done job ${job.id} outcome whole`).to.have.length(400);
        expect(job.resultUids).to.have.length(1);
      } else if (job.state === 'running') {
        expect(job.leaseOwner).to.be.a('string');
        expect(job.leaseExpiresAt).to.be.a('string');
      } else {
        expect(job.state).to.equal('queued');
        expect(job.outcome).to.equal(undefined);
      }
    }
    // The crashed writer's running job comes back once its lease has expired.
    const running = all.filter((j) => j.state === 'running');
    expect(running.length).to.be.at.most(1);
    await store.close();
    if (running.length === 1) {
      const later = new SqliteJobStore({ path: file, now: () => new Date(Date.now() + 61_000) });
      const reclaimed = await later.claim({ owner: 'recovery', leaseMs: 1000 });
      expect(reclaimed?.id).to.equal(running[0].id);
      expect(reclaimed?.attempts).to.equal(2);
      await later.close();
    }
  });

  it('two processes claiming from one file never get the same job', async function () {
    this.timeout(60_000);
    const file = path.join(tempDir(), 'jobs.sqlite');
    const seed = new SqliteJobStore({ path: file });
    for (let i = 0; i < 80; i++) await seed.enqueue({ studyInstanceUID: `1.2.4.${i}`, fingerprint: 'f', source: 'feed' });
    await seed.close();
    const run = (owner: string): Promise<number[]> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--require', TSX, CHILD, 'claimer', file, owner], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.once('close', (code) => {
          if (code !== 0) reject(new Error(`claimer ${owner} failed: ${err}`));
          else resolve(out.trim().split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1])));
        });
      });
    const [a, b] = await Promise.all([run('A'), run('B')]);
    expect(a.length + b.length).to.equal(80);
    expect(new Set([...a, ...b]).size).to.equal(80);
    const check = new SqliteJobStore({ path: file });
    expect((await check.countByState()).done).to.equal(80);
    await check.close();
  });
});
