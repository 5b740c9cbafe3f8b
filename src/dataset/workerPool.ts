/**
 * A small pool of worker_threads for CPU-bound per-study work (generate or read, assemble,
 * extract), so a build uses every core. Each worker runs one task at a time; results come back in
 * completion order with their task index. A task's error is returned to the caller as a value
 * (name, message, code), so one bad study does not stop a build; a worker that dies stops it.
 */
import path from 'node:path';
import { Worker, parentPort, workerData } from 'node:worker_threads';

export interface TaskError {
  name: string;
  message: string;
  code?: string;
}

type Reply<R> = { id: number; ok: true; result: R } | { id: number; ok: false; error: TaskError };

export interface PoolOptions {
  /** Absolute path of the worker module without extension (e.g. path.join(__dirname, 'datasetWorker')). */
  modulePath: string;
  size: number;
  /** Passed to every worker as workerData. */
  data?: unknown;
}

/**
 * The file and exec arguments to start a worker module: the compiled .js beside this file, or the
 * .ts source through tsx when running from source (tests, `npx tsx`).
 */
export function workerEntry(modulePath: string): { file: string; execArgv: string[] } {
  const fromSource = path.extname(__filename) === '.ts';
  if (!fromSource) return { file: `${modulePath}.js`, execArgv: [] };
  return { file: `${modulePath}.ts`, execArgv: ['--require', require.resolve('tsx/cjs')] };
}

export interface TaskOutcome<R> {
  index: number;
  result?: R;
  error?: TaskError;
}

/** Runs every task on `size` workers; `onOutcome` sees each outcome as it arrives. */
export async function runInWorkers<T, R>(options: PoolOptions, tasks: T[], onOutcome: (outcome: TaskOutcome<R>) => void | Promise<void>): Promise<void> {
  if (tasks.length === 0) return;
  const entry = workerEntry(options.modulePath);
  const size = Math.max(1, Math.min(options.size, tasks.length));
  let next = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      let failed = false;
      let pending = Promise.resolve();
      const retired = new Set<Worker>();
      const feed = (worker: Worker): void => {
        if (next >= tasks.length) {
          retired.add(worker);
          void worker.terminate();
          return;
        }
        const id = next++;
        worker.postMessage({ id, task: tasks[id] });
      };
      for (let w = 0; w < size; w++) {
        const worker = new Worker(entry.file, { execArgv: entry.execArgv, workerData: options.data });
        workers.push(worker);
        worker.on('message', (reply: Reply<R>) => {
          const outcome: TaskOutcome<R> = reply.ok ? { index: reply.id, result: reply.result } : { index: reply.id, error: reply.error };
          // Outcomes are handled one at a time, in arrival order. A worker gets its next task once
          // its result has been handled, so at most `size` results (e.g. volumes) wait in memory.
          pending = pending
            .then(() => onOutcome(outcome))
            .then(() => {
              finished++;
              if (finished === tasks.length) resolve();
              else if (!failed) feed(worker);
            })
            .catch((err: unknown) => {
              failed = true;
              reject(err instanceof Error ? err : new Error(String(err)));
            });
        });
        worker.on('error', (err) => {
          failed = true;
          reject(err);
        });
        worker.on('exit', (code) => {
          if (code !== 0 && !failed && !retired.has(worker)) {
            failed = true;
            reject(new Error(`a worker stopped with exit code ${code} (out of memory?)`));
          }
        });
        feed(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Worker side: answers each task message with the handler's result or error. */
export function serveTasks<T, R>(handler: (task: T, data: unknown) => Promise<R> | R, transfer?: (result: R) => ArrayBuffer[]): void {
  const port = parentPort;
  if (!port) throw new Error('serveTasks must run in a worker thread');
  port.on('message', (message: { id: number; task: T }) => {
    void (async () => {
      try {
        const result = await handler(message.task, workerData);
        port.postMessage({ id: message.id, ok: true, result } satisfies Reply<R>, transfer ? transfer(result) : []);
      } catch (err) {
        const e = err as { name?: string; message?: string; code?: unknown };
        const error: TaskError = { name: e.name ?? 'Error', message: e.message ?? String(err) };
        if (typeof e.code === 'string') error.code = e.code;
        port.postMessage({ id: message.id, ok: false, error } satisfies Reply<R>);
      }
    })();
  });
}
