/**
 * Starts a real PostgreSQL (Debian's `postgresql` package) for integration tests, as orthanc.ts
 * starts Orthanc: its own cluster (`initdb`) in a temporary folder, a free port on 127.0.0.1 only,
 * password authentication (scram-sha-256) for every connection, no system service touched.
 * `createDatabase()` gives each test a fresh database owned by an unprivileged role, so tests do
 * not see each other and the store runs with the rights it has in production (a database owner,
 * not a superuser).
 *
 * initdb and postgres refuse to run as root; as root (CI, this machine) they run as the `postgres`
 * user that the Debian package creates, in a folder handed to it. The server is started through
 * `setpriv --pdeathsig KILL`, so it dies with the test process even when that is killed with
 * SIGKILL; a normal exit also removes the folder, and the next start removes the folders that
 * killed runs left behind. A missing PostgreSQL is an error, never a skip. `stopServer` and
 * `startServer` make an outage: the server shut down and started again on the same port and data.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from './orthanc';

const DEBIAN_ROOT = '/usr/lib/postgresql';

export interface TestDatabase {
  name: string;
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/NAME */
  url: string;
  user: string;
  password: string;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** The server's major version, e.g. 15. */
  version: number;
  dataDir: string;
  logFile: string;
  /** A fresh, empty database owned by the unprivileged test role. */
  createDatabase(): Promise<TestDatabase>;
  /** Runs SQL as the superuser on the maintenance database (e.g. to end a role's connections). */
  admin<T = unknown>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Shuts the server down (fast shutdown: connections are cut, nothing committed is lost) and keeps
   * its data; `startServer` brings it back on the same port with the same data (an outage).
   */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

interface RunningServer {
  child: ChildProcess | undefined;
  workDir: string;
}

const running = new Set<RunningServer>();
process.on('exit', () => {
  for (const server of running) {
    server.child?.kill('SIGQUIT');
    rmSync(server.workDir, { recursive: true, force: true });
  }
});

/** Whether `pid` is a live process (a zombie, dead but not yet reaped, counts as dead). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Removes the folders of test clusters whose test process was killed (SIGKILL leaves no chance to
 * clean up; the server itself died with it): those whose postmaster is gone, or that never got one
 * and are over an hour old. A cluster of another test run that is still going is left alone.
 */
function sweepStaleClusters(): void {
  for (const name of readdirSync(os.tmpdir()).filter((n) => n.startsWith('tsr-postgres-'))) {
    const dir = path.join(os.tmpdir(), name);
    try {
      const pidFile = path.join(dir, 'data', 'postmaster.pid');
      const stale = existsSync(pidFile) ? !alive(Number(readFileSync(pidFile, 'utf8').split('\n')[0])) : Date.now() - statSync(dir).mtimeMs > 3_600_000;
      if (stale) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another run's folder, being made or removed right now
    }
  }
}

/** The newest PostgreSQL under /usr/lib/postgresql with initdb; a clear error when none is. */
export function postgresBinDir(): { bin: string; version: number } {
  const versions = existsSync(DEBIAN_ROOT)
    ? readdirSync(DEBIAN_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(path.join(DEBIAN_ROOT, v, 'bin', 'initdb')))
        .map(Number)
        .sort((a, b) => b - a)
    : [];
  if (versions.length === 0) {
    throw new Error(
      `PostgreSQL is required for the job store tests and is missing (no ${DEBIAN_ROOT}/*/bin/initdb). ` +
        'Install it with: apt-get update && apt-get install -y postgresql',
    );
  }
  return { bin: path.join(DEBIAN_ROOT, String(versions[0]), 'bin'), version: versions[0] };
}

/** As root: the uid and gid of the `postgres` user; otherwise undefined (run as ourselves). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as (the Debian package creates it)');
  }
}

/** `setpriv` arguments that run a command as the server user and kill it when we die. */
function asServerUser(user: { uid: number; gid: number } | undefined, command: string, args: string[], dieWithParent: boolean): [string, string[]] {
  const prefix = [
    ...(user ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups'] : []),
    ...(dieWithParent ? ['--pdeathsig', 'KILL'] : []),
  ];
  return prefix.length === 0 ? [command, args] : ['setpriv', [...prefix, '--', command, ...args]];
}

function runToEnd(command: string, args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logFile, 'a');
    const child = spawn(command, args, { stdio: ['ignore', out, out] });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(args.find((a) => a.includes('/bin/')) ?? command)} failed (${code}); log:\n${tail(logFile)}`))));
  });
}

async function adminQuery<T>(port: number, password: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ host: '127.0.0.1', port, user: 'tsr_admin', password, database: 'postgres', connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function waitUntilReady(port: number, password: string, exited: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !exited()) {
    try {
      await adminQuery(port, password, 'SELECT 1');
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

/** initdb into a new temporary folder, owned by the server user; returns the folder and the superuser's password. */
async function initCluster(bin: string, user: { uid: number; gid: number } | undefined): Promise<{ workDir: string; dataDir: string; socketDir: string; logFile: string; adminPassword: string }> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-postgres-'));
  const dataDir = path.join(workDir, 'data');
  const socketDir = path.join(workDir, 'socket');
  const logFile = path.join(workDir, 'postgres.log');
  const adminPassword = randomBytes(12).toString('hex');
  const passwordFile = path.join(workDir, 'admin-password');
  mkdirSync(socketDir);
  writeFileSync(passwordFile, adminPassword, { mode: 0o600 });
  writeFileSync(logFile, '');
  if (user) for (const p of [workDir, socketDir, passwordFile, logFile]) chownSync(p, user.uid, user.gid);
  const initdbArgs = ['-D', dataDir, '-U', 'tsr_admin', `--pwfile=${passwordFile}`, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync'];
  const [command, args] = asServerUser(user, path.join(bin, 'initdb'), initdbArgs, false);
  try {
    await runToEnd(command, args, logFile);
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
  rmSync(passwordFile);
  return { workDir, dataDir, socketDir, logFile, adminPassword };
}

interface Cluster {
  bin: string;
  user: { uid: number; gid: number } | undefined;
  dataDir: string;
  socketDir: string;
  logFile: string;
  adminPassword: string;
}

/** Starts `postgres` on the cluster at `port`; undefined (and the process gone) when it does not come up. */
async function launch(cluster: Cluster, port: number): Promise<{ child: ChildProcess; exited: Promise<void> } | undefined> {
  // fsync off: a test cluster is thrown away, and a crash of the server process (not the machine) loses nothing committed.
  const serverArgs = ['-D', cluster.dataDir, '-p', String(port), '-k', cluster.socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'];
  const [command, args] = asServerUser(cluster.user, path.join(cluster.bin, 'postgres'), serverArgs, true);
  const out = openSync(cluster.logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out] });
  let dead = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    dead = true;
  });
  if (await waitUntilReady(port, cluster.adminPassword, () => dead)) return { child, exited };
  child.kill('SIGKILL');
  await exited;
  return undefined;
}

/** Sends `signal` and waits for the server to exit (SIGKILL after 5 s). */
async function shutDown(server: { child: ChildProcess; exited: Promise<void> }, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill(signal);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
  await server.exited;
  clearTimeout(timer);
}

export async function startPostgres(): Promise<PostgresServer> {
  const { bin, version } = postgresBinDir();
  const user = serverUser();
  sweepStaleClusters();
  const { workDir, dataDir, socketDir, logFile, adminPassword } = await initCluster(bin, user);
  const cluster: Cluster = { bin, user, dataDir, socketDir, logFile, adminPassword };
  const rolePassword = randomBytes(12).toString('hex');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let current = await launch(cluster, port);
    if (!current) {
      lastError = new Error(`PostgreSQL did not start on port ${port}; log:\n${tail(logFile)}`);
      continue;
    }
    const entry: RunningServer = { child: current.child, workDir };
    running.add(entry);
    await adminQuery(port, adminPassword, `CREATE ROLE tsr_node LOGIN PASSWORD '${rolePassword}'`);
    let databases = 0;
    const server: PostgresServer = {
      host: '127.0.0.1',
      port,
      version,
      dataDir,
      logFile,
      createDatabase: async () => {
        const name = `tsr_test_${++databases}`;
        await adminQuery(port, adminPassword, `CREATE DATABASE ${name} OWNER tsr_node`);
        return { name, user: 'tsr_node', password: rolePassword, url: `postgres://tsr_node:${rolePassword}@127.0.0.1:${port}/${name}` };
      },
      admin: <T>(sql: string, params?: unknown[]) => adminQuery<T>(port, adminPassword, sql, params),
      stopServer: async () => {
        if (current) await shutDown(current, 'SIGINT');
        current = undefined;
        entry.child = undefined;
      },
      startServer: async () => {
        if (current) return;
        current = await launch(cluster, port);
        if (!current) throw new Error(`PostgreSQL did not start again on port ${port}; log:\n${tail(logFile)}`);
        entry.child = current.child;
      },
      stop: async () => {
        // Thrown away afterwards, so an immediate shutdown (SIGQUIT: no checkpoint, shared memory removed) will do.
        if (current) await shutDown(current, 'SIGQUIT');
        current = undefined;
        running.delete(entry);
        rmSync(workDir, { recursive: true, force: true });
      },
    };
    return server;
  }
  rmSync(workDir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error('PostgreSQL did not start');
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}
