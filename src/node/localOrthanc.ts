/**
 * A private Orthanc for `tsr-node demo` (and the end-to-end benchmark): Debian's `orthanc` and
 * `orthanc-dicomweb` packages, started with the settings of orthanc-config/orthanc.json plus
 * what a throwaway instance needs: temporary storage, a free HTTP port, a user with a random
 * password, RemoteAccessAllowed false, no DICOM listener, and the webhook Lua script pointed at
 * the node. Orthanc 1.10 binds every interface (HttpPort is an integer), so clients use
 * 127.0.0.1 only and remote access stays refused.
 *
 * The process is killed when the caller stops it, and on this process's exit as a last resort,
 * so no Orthanc is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { PermanentError } from '../errors';
import { PROJECT_ROOT } from '../paths';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
export const ORTHANC_CONFIG_DIR = path.join(PROJECT_ROOT, 'orthanc-config');

export interface LocalOrthancOptions {
  /** Folder for storage, configuration and log (created if missing). */
  workDir: string;
  /** Orthanc's StableAge in seconds. */
  stableAgeSeconds: number;
  /** The node's webhook and its bearer token; without them the Lua script is not loaded. */
  webhook?: { url: string; token: string };
  /** HTTP port; default a free one. */
  port?: number;
}

export interface LocalOrthanc {
  url: string;
  dicomWebUrl: string;
  username: string;
  password: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function orthancInstalled(): boolean {
  return existsSync(ORTHANC_BINARY) && existsSync(DICOMWEB_PLUGIN);
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startLocalOrthanc(options: LocalOrthancOptions): Promise<LocalOrthanc> {
  if (!orthancInstalled()) {
    throw new PermanentError(`Orthanc is not installed (${ORTHANC_BINARY}, ${DICOMWEB_PLUGIN}); run: node scripts/ensure-system-deps.js --demo`);
  }
  installExitHook();
  const storage = path.join(options.workDir, 'orthanc-storage');
  mkdirSync(storage, { recursive: true });
  const base = JSON.parse(readFileSync(path.join(ORTHANC_CONFIG_DIR, 'orthanc.json'), 'utf8')) as Record<string, unknown>;
  const username = 'tsr-node';
  const password = randomBytes(18).toString('base64url');
  const port = options.port ?? (await freePort());
  const dicomWeb = { ...(base.DicomWeb as Record<string, unknown> | undefined), Enable: true };
  delete (dicomWeb as { Host?: unknown }).Host; // BulkDataURIs follow the request's Host (DESIGN.md, known traps)
  const config: Record<string, unknown> = {
    ...base,
    Name: 'tsr-node-demo',
    StorageDirectory: storage,
    IndexDirectory: storage,
    HttpPort: port,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: true,
    RegisteredUsers: { [username]: password },
    DicomServerEnabled: false,
    StableAge: options.stableAgeSeconds,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: dicomWeb,
    LuaScripts: options.webhook ? [path.join(ORTHANC_CONFIG_DIR, 'tsr-node-webhook.lua')] : [],
    TsrNode: options.webhook ? { WebhookUrl: options.webhook.url, WebhookToken: options.webhook.token } : { WebhookUrl: '' },
    OrthancExplorerEnabled: false,
    SaveJobs: false,
  };
  const configFile = path.join(options.workDir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const logFile = path.join(options.workDir, 'orthanc.log');
  const out = openSync(logFile, 'a');
  const child = spawn(ORTHANC_BINARY, [configFile], { stdio: ['ignore', out, out] });
  closeSync(out);
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));

  const url = `http://127.0.0.1:${port}`;
  const authorization = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (dead) throw new PermanentError(`Orthanc exited at start; its log (${logFile}):\n${tail(logFile)}`);
    try {
      const response = await fetch(`${url}/system`, { headers: { Authorization: authorization } });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new PermanentError(`Orthanc did not answer on port ${port} within 30 s; its log (${logFile}):\n${tail(logFile)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // Throwaway data: no need for Orthanc's slow clean shutdown.
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { url, dicomWebUrl: `${url}/dicom-web`, username, password, pid: child.pid ?? -1, logFile, stop };
}
