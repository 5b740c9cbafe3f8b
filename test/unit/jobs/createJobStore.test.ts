/**
 * The job store factory (src/jobs/createJobStore.ts): the configuration chooses the store; an
 * unknown kind of URL is refused at start with a message that names the scheme and never the
 * password, and so is a PostgreSQL server that is not there. (A real PostgreSQL behind the
 * factory: test/integration/jobStorePostgres.test.ts.)
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../../src/errors';
import { createJobStore } from '../../../src/jobs/createJobStore';
import { freePort } from '../../../src/node/localOrthanc';

describe('jobs/createJobStore: the store chosen by configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-store-factory-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('without a database URL: SQLite in the data directory, described by its file', async () => {
    const store = await createJobStore({ dataDir: dir });
    try {
      expect(store.description).to.equal(`SQLite ${path.join(dir, 'jobs.sqlite')}`);
      expect(existsSync(path.join(dir, 'jobs.sqlite'))).to.equal(true);
      expect(await store.getChangeCursor()).to.equal(0);
    } finally {
      await store.close();
    }
  });

  it('sqlite:PATH: a SQLite file elsewhere, and the same store when opened again', async () => {
    const file = path.join(dir, 'elsewhere', 'queue.sqlite');
    const first = await createJobStore({ dataDir: path.join(dir, 'unused'), databaseUrl: `sqlite:${file}` });
    await first.enqueue({ studyInstanceUID: '1.2.3', fingerprint: 'fp', source: 'manual' });
    await first.close();
    const again = await createJobStore({ dataDir: path.join(dir, 'unused'), databaseUrl: `sqlite://${file}` });
    try {
      expect(again.description).to.equal(`SQLite ${file}`);
      expect((await again.list()).jobs.map((job) => job.studyInstanceUID)).to.deep.equal(['1.2.3']);
      expect(existsSync(path.join(dir, 'unused'))).to.equal(false);
    } finally {
      await again.close();
    }
  });

  it('refuses an unknown scheme, an empty sqlite path and a non-URL, without echoing the URL', async () => {
    const refusal = async (databaseUrl: string): Promise<Error> => {
      try {
        await createJobStore({ dataDir: dir, databaseUrl });
      } catch (err) {
        return err as Error;
      }
      throw new Error(`${databaseUrl} was accepted`);
    };
    const unknown = await refusal('mysql://tsr:s3cret@db.example/tsr');
    expect(unknown).to.be.instanceOf(ConfigError);
    expect(unknown.message).to.include('"mysql:"').and.include('sqlite:').and.not.include('s3cret');
    expect(await refusal('sqlite:')).to.be.instanceOf(ConfigError);
    const notUrl = await refusal('/var/lib/s3cret.sqlite');
    expect(notUrl).to.be.instanceOf(ConfigError);
    expect(notUrl.message).to.not.include('s3cret');
    const badPostgres = await refusal('postgres://tsr:s3cret@db.example:port/tsr');
    expect(badPostgres).to.be.instanceOf(ConfigError);
    expect(badPostgres.message).to.include('PostgreSQL URL').and.not.include('s3cret');
  });

  it('a postgres URL whose server is not there: a clear error naming host, port and database, never the password', async function () {
    this.timeout(15_000);
    const port = await freePort();
    for (const scheme of ['postgres', 'postgresql']) {
      let error: Error | undefined;
      try {
        await createJobStore({ dataDir: dir, databaseUrl: `${scheme}://tsr:s3cret-pw@127.0.0.1:${port}/tsr_jobs` });
      } catch (err) {
        error = err as Error;
      }
      expect(error, `${scheme}: refused`).to.be.instanceOf(Error);
      expect(error?.message).to.include(`PostgreSQL 127.0.0.1:${port}/tsr_jobs`).and.include('ECONNREFUSED');
      expect(`${error?.message} ${error?.stack}`).to.not.include('s3cret-pw');
    }
    expect(existsSync(path.join(dir, 'jobs.sqlite')), 'no silent fall-back to SQLite').to.equal(false);
  });
});
