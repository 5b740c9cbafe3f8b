/**
 * The PostgreSQL job store on a real PostgreSQL (test/harness/postgres.ts: its own cluster on a
 * free 127.0.0.1 port, a fresh database per test): the shared conformance suite, two stores racing
 * on one database included, plus what only a shared database server shows: versioned migrations
 * that two nodes starting at once apply once, the database's clock for leases, readiness on a
 * read-only database, the password kept out of descriptions and errors, and nodes in separate
 * processes (one killed while it holds a job).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createJobStore } from '../../src/jobs/createJobStore';
import { PostgresJobStore } from '../../src/jobs/postgresJobStore';
import { MIGRATIONS } from '../../src/jobs/postgresSchema';
import { startPostgres, type PostgresServer, type TestDatabase } from '../harness/postgres';
import { describeJobStoreConformance } from './jobStoreConformance';

const CHILD = path.join(__dirname, '../harness/jobStoreChild.ts');
const TSX = require.resolve('tsx/cjs');

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Runs the child harness against `url`; resolves with its stdout lines once it prints `lines` of them (or exits). */
function runChild(mode: string, url: string, owner: string): { lines: Promise<string[]>; kill(): void } {
  const child = spawn(process.execPath, ['--require', TSX, CHILD, mode, url, owner], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const lines = new Promise<string[]>((resolve, reject) => {
    const done = (): void => resolve(out.trim().split('\n').filter(Boolean));
    child.stdout.on('data', () => {
      if (mode === 'holder' && out.includes('\n')) done();
    });
    child.once('close', (code, signal) => (code === 0 || signal === 'SIGKILL' ? done() : reject(new Error(`${mode} ${owner} failed (${code}): ${err}`))));
  });
  return { lines, kill: () => child.kill('SIGKILL') };
}

describe('PostgreSQL job store', function () {
  this.timeout(30_000);
  let server: PostgresServer;
  before(async function () {
    this.timeout(60_000);
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  describeJobStoreConformance('PostgreSQL', async (clock) => {
    const db = await server.createDatabase();
    const open = (): Promise<PostgresJobStore> => PostgresJobStore.open({ url: db.url, now: clock.now });
    return { store: await open(), sameDatabase: open };
  });

  describe('schema migrations', () => {
    it('records each version applied; four nodes starting at once on an empty database migrate it once', async () => {
      const db = await server.createDatabase();
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresJobStore.open({ url: db.url })));
      await stores[0].enqueue({ studyInstanceUID: '1.2.3', fingerprint: 'f', source: 'manual' });
      expect((await stores[3].list()).jobs).to.have.length(1);
      await Promise.all(stores.map((s) => s.close()));
      const reopened = await PostgresJobStore.open({ url: db.url });
      await reopened.close();
      const rows = await queryAs<{ version: number }>(db, 'SELECT version FROM schema_version ORDER BY version');
      expect(rows.map((r) => r.version)).to.deep.equal(MIGRATIONS.map((_, i) => i + 1));
    });

    it('refuses a database whose schema is newer than this version knows, and changes nothing', async () => {
      const db = await server.createDatabase();
      await (await PostgresJobStore.open({ url: db.url })).close();
      await queryAs(db, 'INSERT INTO schema_version (version) VALUES (99)');
      const err = await rejection(PostgresJobStore.open({ url: db.url }));
      expect(err.message).to.include('version 99').and.include('newer');
      expect((await queryAs<{ n: number }>(db, 'SELECT COUNT(*)::int AS n FROM schema_version'))[0].n).to.equal(MIGRATIONS.length + 1);
    });
  });

  describe('time and connection', () => {
    it("leases and timestamps come from the database server's clock when no test clock is given", async () => {
      const db = await server.createDatabase();
      const store = await PostgresJobStore.open({ url: db.url });
      try {
        const [{ before }] = await queryAs<{ before: Date }>(db, 'SELECT now() AS before');
        await store.enqueue({ studyInstanceUID: '1.2.3', fingerprint: 'f', source: 'manual' });
        const job = await store.claim({ owner: 'w', leaseMs: 45_000 });
        const [{ after }] = await queryAs<{ after: Date }>(db, 'SELECT now() AS after');
        const started = Date.parse(job?.startedAt ?? '');
        expect(started).to.be.within(before.getTime(), after.getTime());
        expect(Date.parse(job?.leaseExpiresAt ?? '') - started).to.equal(45_000);
        expect(await store.heartbeat(job?.id ?? 0, 'w', 90_000)).to.equal(true);
        // The feed lease and the node registry too.
        expect(await store.acquireFeedLease('node/boot', 20_000)).to.equal(true);
        await store.nodeHeartbeat({ nodeId: 'node', bootId: 'boot', host: 'h', version: 'v' }, 10_000);
        const [{ later }] = await queryAs<{ later: Date }>(db, 'SELECT now() AS later');
        const lease = await store.getFeedLease();
        expect(Date.parse(lease?.since ?? '')).to.be.within(after.getTime(), later.getTime());
        expect(Date.parse(lease?.expiresAt ?? '') - Date.parse(lease?.since ?? '')).to.equal(20_000);
        const [registered] = await store.listNodes();
        expect(Date.parse(registered.lastHeartbeatAt)).to.be.within(after.getTime(), later.getTime());
        expect(registered).to.include({ live: true, followsFeed: true });
      } finally {
        await store.close();
      }
    });

    it('describes itself by host, port and database; neither the description nor a refusal shows the password', async () => {
      const db = await server.createDatabase();
      const store = await PostgresJobStore.open({ url: db.url });
      expect(store.description).to.equal(`PostgreSQL 127.0.0.1:${server.port}/${db.name}`);
      await store.close();
      await store.close(); // twice is harmless
      const wrong = db.url.replace(db.password, 'not-the-password-4711');
      const err = await rejection(PostgresJobStore.open({ url: wrong }));
      expect(err.message).to.include(`PostgreSQL 127.0.0.1:${server.port}/${db.name}`).and.include('password authentication failed');
      expect(err.message).to.not.include('not-the-password-4711');
      expect(String(err.stack)).to.not.include('not-the-password-4711');
    });

    it('through the factory: a postgres URL without a password takes it from jobs.databasePasswordFile, or from PGPASSWORD', async () => {
      const db = await server.createDatabase();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-pg-secret-'));
      const saved = process.env.PGPASSWORD;
      try {
        const passwordFile = path.join(dir, 'db-password');
        writeFileSync(passwordFile, `${db.password}\n`, { mode: 0o600 });
        const bare = `postgresql://${db.user}@127.0.0.1:${server.port}/${db.name}`;
        const fromFile = await createJobStore({ dataDir: dir, databaseUrl: bare, databasePasswordFile: passwordFile });
        expect(fromFile.description).to.equal(`PostgreSQL 127.0.0.1:${server.port}/${db.name}`);
        await fromFile.enqueue({ studyInstanceUID: '1.2.3', fingerprint: 'f', source: 'manual' });
        await fromFile.close();
        process.env.PGPASSWORD = db.password;
        const fromEnv = await createJobStore({ dataDir: dir, databaseUrl: bare });
        expect((await fromEnv.list()).jobs).to.have.length(1);
        await fromEnv.close();
        const missing = await rejection(createJobStore({ dataDir: dir, databaseUrl: bare, databasePasswordFile: path.join(dir, 'absent') }));
        expect(missing.message).to.include('jobs.databasePasswordFile');
      } finally {
        if (saved === undefined) delete process.env.PGPASSWORD;
        else process.env.PGPASSWORD = saved;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('readiness fails on a read-only database and passes again once it is writable; dropped connections do not crash the node', async () => {
      const db = await server.createDatabase();
      const store = await PostgresJobStore.open({ url: db.url });
      const dropConnections = async (): Promise<void> => {
        await server.admin('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
        await new Promise((r) => setTimeout(r, 200));
      };
      try {
        await store.checkWritable();
        await server.admin(`ALTER DATABASE ${db.name} SET default_transaction_read_only = on`);
        await dropConnections();
        const err = await rejection(store.checkWritable());
        expect(err.message).to.include('read-only');
        await server.admin(`ALTER DATABASE ${db.name} RESET default_transaction_read_only`);
        await dropConnections();
        await store.checkWritable();
        expect(await store.countByState()).to.deep.include({ queued: 0 });
      } finally {
        await store.close();
      }
    });
  });

  describe('nodes in separate processes', () => {
    it('two processes claiming from one database never get the same job', async () => {
      const db = await server.createDatabase();
      const seed = await PostgresJobStore.open({ url: db.url });
      for (let i = 0; i < 60; i++) await seed.enqueue({ studyInstanceUID: `1.2.4.${i}`, fingerprint: 'f', source: 'feed' });
      const [a, b] = await Promise.all([runChild('claimer', db.url, 'A').lines, runChild('claimer', db.url, 'B').lines]);
      const ids = [...a, ...b].map((line) => Number(line.split(' ')[1]));
      expect(ids).to.have.length(60);
      expect(new Set(ids).size).to.equal(60);
      expect((await seed.countByState()).done).to.equal(60);
      await seed.close();
    });

    it('a node killed while it holds a job: another node takes the job over when the lease runs out, not before', async () => {
      const db = await server.createDatabase();
      const survivor = await PostgresJobStore.open({ url: db.url });
      try {
        const { job } = await survivor.enqueue({ studyInstanceUID: '1.2.5', fingerprint: 'f', source: 'feed' });
        const holder = runChild('holder', db.url, 'crashed-node');
        expect(await holder.lines).to.deep.equal([`claimed ${job.id}`]);
        holder.kill();
        expect(await survivor.claim({ owner: 'survivor', leaseMs: 10_000 }), 'the lease still runs').to.equal(undefined);
        await new Promise((r) => setTimeout(r, 1600));
        const taken = await survivor.claim({ owner: 'survivor', leaseMs: 10_000 });
        expect(taken).to.include({ id: job.id, attempts: 2, leaseOwner: 'survivor' });
        expect(await survivor.complete(job.id, 'crashed-node', { outcome: 'stale' }), 'the dead owner is locked out').to.equal(false);
      } finally {
        await survivor.close();
      }
    });
  });
});

/** One query on a test database as its owner (the store's role), outside any store. */
async function queryAs<T>(db: TestDatabase, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}
