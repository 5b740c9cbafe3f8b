/**
 * The job store factory: the configuration chooses the store (config `jobs.databaseUrl`,
 * TSR_DATABASE_URL), callers get the JobStore contract and never name an adapter.
 *
 * - absent: the embedded SQLite file `jobs.sqlite` in the data directory (the default);
 * - `sqlite:PATH`: a SQLite file (or a folder that holds `jobs.sqlite`) elsewhere;
 * - `postgres://USER@HOST:PORT/DATABASE` (or `postgresql://`): PostgreSQL, for several nodes on
 *   one database. The password comes from the URL, from the file `jobs.databasePasswordFile`, or
 *   from pg's own PGPASSWORD / ~/.pgpass; it is never logged (the store describes itself by host,
 *   port and database).
 *
 * A new store is one more entry in `ADAPTERS`, keyed by its URL scheme, passing the conformance
 * suite in test/integration/jobStoreConformance.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';
import type { JobStore } from './jobStore';
import { PostgresJobStore } from './postgresJobStore';
import { SqliteJobStore } from './sqliteJobStore';

export interface JobStoreSettings {
  /** config `dataDir`: where the default SQLite file lives. */
  dataDir: string;
  /** config `jobs.databaseUrl`; absent = SQLite in dataDir. */
  databaseUrl?: string;
  /** config `jobs.databasePasswordFile`: the database password, for a URL without one. */
  databasePasswordFile?: string;
}

type Adapter = (url: string, settings: JobStoreSettings) => Promise<JobStore>;

function readPasswordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`jobs.databasePasswordFile: cannot read ${file}: ${(err as Error).message}`);
  }
}

const postgres: Adapter = (url, settings) =>
  PostgresJobStore.open({ url, ...(settings.databasePasswordFile ? { password: readPasswordFile(settings.databasePasswordFile) } : {}) });

const ADAPTERS: Record<string, Adapter> = {
  'sqlite:': (url) => {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file.length === 0) throw new ConfigError('jobs.databaseUrl: "sqlite:" needs a path, e.g. sqlite:/var/lib/tsr-node/jobs.sqlite');
    return Promise.resolve(new SqliteJobStore({ path: path.resolve(file) }));
  },
  'postgres:': postgres,
  'postgresql:': postgres,
};

/** The URL's scheme ("sqlite:"), lower case; the rest of the URL may hold a password, so it is never echoed. */
function schemeOf(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:)/i.exec(url);
  if (!match) throw new ConfigError('jobs.databaseUrl: not a URL (expected e.g. sqlite:/var/lib/tsr-node/jobs.sqlite)');
  return match[1].toLowerCase();
}

/** Opens the configured job store (migrating its schema); a ConfigError when it cannot be chosen. */
export async function createJobStore(settings: JobStoreSettings): Promise<JobStore> {
  if (settings.databaseUrl === undefined || settings.databaseUrl === '') return new SqliteJobStore({ path: settings.dataDir });
  const scheme = schemeOf(settings.databaseUrl);
  const adapter = ADAPTERS[scheme];
  if (!adapter) {
    throw new ConfigError(`jobs.databaseUrl: no job store for "${scheme}" URLs in this version (known: ${Object.keys(ADAPTERS).join(', ')}; leave it out for SQLite in dataDir)`);
  }
  return adapter(settings.databaseUrl, settings);
}
