/**
 * Starts a real Orthanc (Debian's `orthanc` + `orthanc-dicomweb` packages) for integration tests:
 * a generated config with a free HTTP port, temporary storage, authentication on, the DICOMweb
 * plugin, a small StableAge, RemoteAccessAllowed false and the DICOM listener off.
 *
 * Orthanc 1.10 binds every interface and cannot be told otherwise; tests talk to 127.0.0.1 only.
 * A missing Orthanc is an error, never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DICOMWEB_PLUGIN, freePort, ORTHANC_BINARY } from '../../src/node/localOrthanc';

// The same binary, plugin and free-port helper as the demo's private Orthanc.
export { DICOMWEB_PLUGIN, freePort, ORTHANC_BINARY };

export interface OrthancOptions {
  /** Seconds without new instances before a study is stable (Orthanc's StableAge). */
  stableAgeSeconds?: number;
  /** Lua scripts to load (absolute paths). */
  luaScripts?: string[];
  /** Extra top-level configuration keys, merged over the generated ones. */
  extraConfig?: Record<string, unknown>;
  /** Reuse this storage folder (to restart an Orthanc with its data). */
  storageDir?: string;
  /** Listen on this port and take this password (to restart an Orthanc at the same address). */
  port?: number;
  password?: string;
}

export interface OrthancInstance {
  /** REST root, e.g. http://127.0.0.1:41234 */
  url: string;
  /** DICOMweb root, e.g. http://127.0.0.1:41234/dicom-web */
  dicomWebUrl: string;
  username: string;
  password: string;
  /** Value of the Authorization header. */
  authorization: string;
  port: number;
  storageDir: string;
  logFile: string;
  /** Orthanc's REST API with auth: returns parsed JSON (or text). Throws on HTTP errors. */
  rest<T = unknown>(method: string, route: string, body?: Buffer | string | object): Promise<T>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function assertInstalled(): void {
  const missing = [ORTHANC_BINARY, DICOMWEB_PLUGIN].filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(
      `Orthanc is required for integration tests and is missing (${missing.join(', ')}). ` +
        'Install it with: apt-get update && apt-get install -y orthanc orthanc-dicomweb',
    );
  }
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancInstance> {
  assertInstalled();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-orthanc-'));
  const storageDir = options.storageDir ?? path.join(workDir, 'storage');
  mkdirSync(storageDir, { recursive: true });
  const username = 'tsr-test';
  const password = options.password ?? randomBytes(12).toString('hex');
  const logFile = path.join(workDir, 'orthanc.log');

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    const config = {
      Name: 'tsr-test-orthanc',
      StorageDirectory: storageDir,
      IndexDirectory: storageDir,
      HttpPort: port,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: true,
      RegisteredUsers: { [username]: password },
      DicomServerEnabled: false,
      StableAge: options.stableAgeSeconds ?? 2,
      Plugins: [DICOMWEB_PLUGIN],
      // Leave DicomWeb.Host unset so BulkDataURIs follow the request's Host (Debian hard-codes localhost).
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
      LuaScripts: options.luaScripts ?? [],
      HttpCompressionEnabled: false,
      OrthancExplorerEnabled: false,
      SaveJobs: false,
      ...options.extraConfig,
    };
    const configFile = path.join(workDir, 'orthanc.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const out = openSync(logFile, 'a');
    const child = spawn(ORTHANC_BINARY, [configFile], { stdio: ['ignore', out, out] });
    running.add(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.once('exit', () => running.delete(child));

    const url = `http://127.0.0.1:${port}`;
    const authorization = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
    const ready = await waitForSystem(url, authorization, exited);
    if (!ready) {
      child.kill('SIGKILL');
      lastError = new Error(`Orthanc did not start on port ${port}; log:\n${tail(logFile)}`);
      continue;
    }
    const rest = async <T>(method: string, route: string, body?: Buffer | string | object): Promise<T> => {
      const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
      const response = await fetch(url + route, {
        method,
        headers: { Authorization: authorization, ...(body !== undefined && !isRaw ? { 'Content-Type': 'application/json' } : {}) },
        body: body === undefined ? undefined : isRaw ? (body) : JSON.stringify(body),
      });
      const text = await response.text();
      if (!response.ok) throw new Error(`Orthanc ${method} ${route}: HTTP ${response.status} ${text.slice(0, 500)}`);
      try {
        return JSON.parse(text) as T;
      } catch {
        return text as unknown as T;
      }
    };
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        // A temporary Orthanc's data is thrown away, so it need not shut down cleanly: SIGTERM
        // takes Orthanc 1.10 about 2.5 s, SIGKILL none. One kept for a restart gets SIGTERM.
        child.kill(options.storageDir ? 'SIGTERM' : 'SIGKILL');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (!options.storageDir) rmSync(workDir, { recursive: true, force: true });
    };
    return { url, dicomWebUrl: `${url}/dicom-web`, username, password, authorization, port, storageDir, logFile, rest, stop };
  }
  throw lastError instanceof Error ? lastError : new Error('Orthanc did not start');
}

async function waitForSystem(url: string, authorization: string, exited: Promise<number | null>): Promise<boolean> {
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && !dead) {
    try {
      const response = await fetch(`${url}/system`, { headers: { Authorization: authorization } });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}
