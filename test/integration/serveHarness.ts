/**
 * Helpers for the serve, API and log tests: a node configuration for a test Orthanc and the tiny
 * fixture models, and small HTTP helpers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema, type Config } from '../../src/config/schema';
import type { Job } from '../../src/jobs/jobStore';
import type { OrthancInstance } from '../harness/orthanc';
import { TINY_MODELS_DIR } from './serveStudyFixture';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A node config: temporary data dir, ephemeral port, tiny models, fast polling, no OHIF. */
export function testNodeConfig(orthanc: OrthancInstance, overrides: Record<string, unknown> = {}): Config {
  const o = overrides as { [k: string]: Record<string, unknown> | undefined };
  return configSchema.parse({
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'tsr-serve-')),
    logLevel: 'debug',
    ...overrides,
    orthanc: { url: orthanc.url, username: orthanc.username, password: orthanc.password, ...o.orthanc },
    feed: { mode: 'both', pollSchedule: '* * * * * *', ...o.feed },
    worker: { retryBaseDelayMs: 200, ...o.worker },
    models: { dir: TINY_MODELS_DIR, intraOpThreads: 1, ...o.models },
    api: { port: 0, token: 'test-token-0123456789abcdef', ohifViewer: false, ...o.api },
  });
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export async function call<T = unknown>(baseUrl: string, method: string, route: string, options: { token?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(baseUrl + route, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (metrics, HTML)
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Polls GET /api/jobs/:id until `done(job)` or the deadline. */
export async function waitForJob(baseUrl: string, token: string, id: number, done: (job: Job) => boolean, timeoutMs = 30_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call<Job>(baseUrl, 'GET', `/api/jobs/${id}`, { token });
    if (r.status === 200 && done(r.body)) return r.body;
    if (Date.now() > deadline) throw new Error(`job ${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(r.body).slice(0, 600)}`);
    await sleep(50);
  }
}

/** Polls GET /api/jobs?study= until some job of the study satisfies `done`. */
export async function waitForStudyJob(baseUrl: string, token: string, studyInstanceUID: string, done: (job: Job) => boolean, timeoutMs = 30_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call<{ jobs: Job[] }>(baseUrl, 'GET', `/api/jobs?study=${studyInstanceUID}`, { token });
    const job = r.status === 200 ? r.body.jobs.find(done) : undefined;
    if (job) return job;
    if (Date.now() > deadline) throw new Error(`no job of study ${studyInstanceUID} reached the expected state in ${timeoutMs} ms: ${JSON.stringify(r.body).slice(0, 600)}`);
    await sleep(50);
  }
}

export const isFinished = (job: Job): boolean => job.state === 'done' || job.state === 'skipped' || job.state === 'failed';

const TSX = require.resolve('tsx/cjs');
const CLI_MAIN = path.resolve(__dirname, '../../src/cli/main.ts');

export interface CliChild {
  child: ChildProcess;
  /** Everything the process wrote so far, stdout and stderr together. */
  output(): string;
  /** Resolves with the base URL once the node says it is serving. */
  url: Promise<string>;
  /** Resolves with the exit code (or 128 + signal number). */
  exited: Promise<number>;
}

/** Runs `tsr-node <args>` from the TypeScript sources (through tsx) in a child process. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const code = `require(${JSON.stringify(CLI_MAIN)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; })`;
  const child = spawn(process.execPath, ['--require', TSX, '-e', code, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  let resolveUrl: (url: string) => void = () => undefined;
  let rejectUrl: (err: Error) => void = () => undefined;
  const url = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve;
    rejectUrl = reject;
  });
  url.catch(() => undefined);
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    const m = /tsr-node serving on (http:\/\/\S+)/.exec(text);
    if (m) resolveUrl(m[1]);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      rejectUrl(new Error(`tsr-node exited (${code ?? signal}) before serving:\n${text.slice(-3000)}`));
      resolve(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15));
    });
  });
  return { child, output: () => text, url, exited };
}

/** Writes a config object as a JSON file in the node's data dir and returns its path. */
export function writeConfigFile(config: Config): string {
  const file = path.join(config.dataDir, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}
