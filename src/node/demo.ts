/**
 * `tsr-node demo`: the whole product on one machine, end to end, with nothing to configure.
 *
 *  1. a private Orthanc (localOrthanc.ts): orthanc-config's settings, temporary storage,
 *     authentication with a random password, a free port, the webhook script pointed at the node;
 *  2. the node, in this process (tsrNode.ts), fed by the webhook and the change feed;
 *  3. a synthetic dual-phase study with a known label (src/synthetic), sent with STOW-RS as a
 *     modality or router would;
 *  4. wait until the node's job is done and the SR, SC and SEG are in Orthanc (checked with QIDO-RS);
 *  5. print the prediction beside the ground truth, and the viewer link.
 *
 * Everything it starts is stopped at the end, or on Ctrl-C (the caller aborts `signal`); with
 * `keep`, it stays up until then. Orthanc is also killed if this process exits unexpectedly.
 */
import { TAG } from '../dicom/dictionary';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createWriteStream, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../config/schema';
import { ConfigError } from '../errors';
import { createDicomWebClient } from '../dicomweb/client';
import { jsonString } from '../dicomweb/dicomJson';
import { modelSetIdentities } from '../inference/modelSet';
import type { Job } from '../jobs/jobStore';
import { createLogger } from '../logging/logger';
import { PROJECT_ROOT } from '../paths';
import { generateStudy } from '../synthetic';
import { freePort, startLocalOrthanc, type LocalOrthanc } from './localOrthanc';
import { startNode, type RunningNode } from './tsrNode';

export interface DemoOptions {
  seed: number;
  columns: number;
  slices: number;
  /** Leave Orthanc and the node running until `signal` aborts. */
  keep: boolean;
  /** Folder of the models; default models/ of the project. */
  modelsDir?: string;
  label?: 'low' | 'high';
  /** Serve the OHIF viewer (fetched once with npm). */
  viewer: boolean;
  stableAgeSeconds: number;
  /** Longest wait for the results, in ms. */
  timeoutMs: number;
  /** Ctrl-C. */
  signal: AbortSignal;
  /** Human-readable progress (stdout). */
  print: (line: string) => void;
}

export interface DemoResult {
  studyInstanceUID: string;
  job?: Job;
  resultsInOrthanc: boolean;
  prediction?: { label: string; probabilityHigh: number; threshold: number };
  groundTruth: { label: string; stromaFraction: number };
  viewerUrl?: string;
}

class DemoAborted extends Error {
  constructor() {
    super('interrupted');
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DemoAborted());
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new DemoAborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const isFinished = (job: Job): boolean => job.state === 'done' || job.state === 'skipped' || job.state === 'failed';

/** What the steps share: the temporary folder, the node's log, the node's port and API token. */
interface DemoWorkspace {
  workDir: string;
  logFile: string;
  log: WriteStream;
  modelsDir: string;
  apiPort: number;
  token: string;
}

type GeneratedStudy = ReturnType<typeof generateStudy>;

function requireModels(modelsDir: string): void {
  const missing = ['tsr-clip-fusion.json', 'tsr-localizer.json'].filter((file) => !existsSync(path.join(modelsDir, file)));
  if (missing.length > 0) {
    throw new ConfigError(`the models are not in ${modelsDir} (missing ${missing.join(', ')}); train them with the kit in models/training (models/training/README.md) or pass --models DIR`);
  }
}

/** 1. A private Orthanc whose webhook points at the node. */
async function startDemoOrthanc(options: DemoOptions, workspace: DemoWorkspace): Promise<LocalOrthanc> {
  const nodeUrl = `http://127.0.0.1:${workspace.apiPort}`;
  const orthanc = await startLocalOrthanc({
    workDir: workspace.workDir,
    stableAgeSeconds: options.stableAgeSeconds,
    webhook: { url: `${nodeUrl}/api/webhook/stable-study`, token: workspace.token },
  });
  options.print(`  Orthanc   ${orthanc.url} (temporary storage, user ${orthanc.username}, random password, StableAge ${options.stableAgeSeconds} s)`);
  return orthanc;
}

/** 2. The node, in this process, fed by the webhook and the change feed; it logs to the workspace. */
async function startDemoNode(options: DemoOptions, workspace: DemoWorkspace, orthanc: LocalOrthanc): Promise<RunningNode> {
  const { log, logFile } = workspace;
  const config = configSchema.parse({
    dataDir: path.join(workspace.workDir, 'node-data'),
    orthanc: { url: orthanc.url, username: orthanc.username, password: orthanc.password },
    feed: { mode: 'both', pollSchedule: '*/2 * * * * *' },
    models: { dir: workspace.modelsDir },
    api: { port: workspace.apiPort, token: workspace.token, ohifViewer: options.viewer },
  });
  const node = await startNode({ config, logger: createLogger({ level: 'info', write: (line) => log.write(line + '\n') }) });
  // The classifier (the model that answers) first, then the other stages of the set.
  const stages = modelSetIdentities(node.models).sort((first, second) => Number(second.role === 'classifier') - Number(first.role === 'classifier'));
  const models = stages.map((model) => `${model.name} ${model.version}`);
  options.print(`  node      ${node.url} (models ${models.join(', ')}; log ${logFile})`);
  return node;
}

/** 3. A synthetic study, sent with STOW-RS as a modality would; returns it and when the upload ended. */
async function sendSyntheticStudy(options: DemoOptions, orthanc: LocalOrthanc, check: () => void): Promise<{ study: GeneratedStudy; sentAt: number }> {
  const { print } = options;
  let startedAt = Date.now();
  print(`  generating a synthetic dual-phase study (seed ${options.seed}, ${options.columns} x ${options.columns} x ${options.slices} per phase) ...`);
  const study = generateStudy({ seed: options.seed, columns: options.columns, slices: options.slices, ...(options.label ? { label: options.label } : {}) });
  print(`  ... ${study.files.length} instances in ${study.groundTruth.series.length} series, ${seconds(Date.now() - startedAt)}`);
  check();
  startedAt = Date.now();
  const modality = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
  try {
    const batch = 25;
    for (let i = 0; i < study.files.length; i += batch) {
      await modality.store(
        study.files.slice(i, i + batch).map((file) => file.bytes),
        study.studyInstanceUID,
      );
      check();
    }
  } finally {
    modality.close();
  }
  const sentAt = Date.now();
  print(`  sent with STOW-RS in ${seconds(sentAt - startedAt)}; waiting for Orthanc to call it stable and for the node ...`);
  return { study, sentAt };
}

/** 4. The study's job once done (or once all its jobs are finished), or undefined after `timeoutMs`. */
async function waitForJob(node: RunningNode, studyInstanceUID: string, timeoutMs: number, signal: AbortSignal): Promise<Job | undefined> {
  const deadline = Date.now() + timeoutMs;
  let job: Job | undefined;
  for (;;) {
    const { jobs } = await node.store.list({ studyInstanceUID });
    job = jobs.find((candidate) => candidate.state === 'done') ?? (jobs.length > 0 && jobs.every(isFinished) ? jobs[0] : undefined);
    if (job) break;
    if (Date.now() > deadline) break;
    await sleep(200, signal);
  }
  return job;
}

function printJob(job: Job, sentAt: number, print: (line: string) => void): void {
  const timings = Object.entries(job.timingsMs ?? {})
    .filter(([step]) => step !== 'total')
    .map(([step, ms]) => `${step} ${Math.round(ms)} ms`)
    .join(', ');
  print(`  job ${job.id} ${job.state} ${seconds(Date.parse(job.finishedAt ?? job.updatedAt) - sentAt)} after the upload${timings ? ` (${timings})` : ''}`);
}

/** A done job: whether its SR, SC and SEG are in Orthanc (checked with QIDO-RS), and its prediction. */
async function recordResults(node: RunningNode, job: Job, result: DemoResult, print: (line: string) => void): Promise<void> {
  const present = new Set(
    (await node.dicomWeb.searchInstances(result.studyInstanceUID, undefined, [TAG.sopInstanceUID])).map((instance) => jsonString(instance, TAG.sopInstanceUID)),
  );
  result.resultsInOrthanc = (job.resultUids ?? []).length === 3 && (job.resultUids ?? []).every((uid) => present.has(uid));
  print(result.resultsInOrthanc ? `  SR, SC and SEG are in Orthanc: ${(job.resultUids ?? []).join(', ')}` : '  the SR, SC and SEG are NOT in Orthanc');
  const outcome = job.outcome as { label: string; probabilityHigh: number; threshold: number };
  result.prediction = { label: outcome.label, probabilityHigh: outcome.probabilityHigh, threshold: outcome.threshold };
}

/** The study in the OHIF viewer, once the viewer is ready; undefined without one. */
async function viewerLink(options: DemoOptions, node: RunningNode, studyInstanceUID: string): Promise<string | undefined> {
  let viewerReady = false;
  if (options.viewer) {
    const settled = await Promise.race([node.viewerReady, sleep(100, options.signal).then(() => undefined)]);
    if (settled === undefined) options.print('  preparing the OHIF viewer (the first run fetches it with npm, about 50 MB) ...');
    viewerReady = await node.viewerReady;
  }
  return viewerReady ? `${node.url}/viewer?StudyInstanceUIDs=${studyInstanceUID}` : undefined;
}

/** 5. The prediction beside the ground truth, and where to look. */
function printAnswer(result: DemoResult, truth: GeneratedStudy['groundTruth'], node: RunningNode, token: string, print: (line: string) => void): void {
  print('');
  if (result.prediction) {
    const prediction = result.prediction;
    print(`  Prediction    ${prediction.label} TSR   P(high TSR) = ${prediction.probabilityHigh.toFixed(3)} (threshold ${prediction.threshold})`);
  } else {
    print('  Prediction    none');
  }
  print(`  Ground truth  ${truth.tumour.label} TSR   stroma fraction ${truth.tumour.stromaFraction.toFixed(2)} (${truth.tumour.region}, ${truth.tumour.diameterMm.toFixed(0)} mm)` + (result.prediction ? (result.prediction.label === truth.tumour.label ? '   agrees' : '   DISAGREES') : ''));
  print(`  Viewer        ${result.viewerUrl ?? '(not available; see the log)'}`);
  print(`  Status page   ${node.url}/`);
  print(`  API token     ${token}   (log in with it once in the browser)`);
  print('');
}

/** With `keep`, waits for Ctrl-C; else says that everything stops now. */
async function stayUpIfKept(options: DemoOptions): Promise<void> {
  const { print, signal } = options;
  if (options.keep) {
    print('Everything keeps running. Press Ctrl-C to stop Orthanc and the node (their data is temporary).');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } else {
    print('Stopping Orthanc and the node (run with --keep to leave them running and open the viewer).');
  }
}

export async function runDemo(options: DemoOptions): Promise<DemoResult | 'interrupted'> {
  const { print, signal } = options;
  const modelsDir = options.modelsDir ?? path.join(PROJECT_ROOT, 'models');
  requireModels(modelsDir);
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-node-demo-'));
  const logFile = path.join(workDir, 'tsr-node.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  let orthanc: LocalOrthanc | undefined;
  let node: RunningNode | undefined;
  let keepWorkDir = false;
  const check = (): void => {
    if (signal.aborted) throw new DemoAborted();
  };

  try {
    print('tsr-node demo (research use only, not for diagnostic use)');
    // 1-2. Orthanc and the node, each on a free port; Orthanc's webhook points at the node.
    const workspace: DemoWorkspace = { workDir, logFile, log, modelsDir, apiPort: await freePort(), token: randomBytes(24).toString('hex') };
    orthanc = await startDemoOrthanc(options, workspace);
    check();
    node = await startDemoNode(options, workspace, orthanc);
    check();

    // 3. A synthetic study, sent with STOW-RS.
    const { study, sentAt } = await sendSyntheticStudy(options, orthanc, check);
    const truth = study.groundTruth;

    // 4. Wait for the job and for the results in Orthanc.
    const job = await waitForJob(node, study.studyInstanceUID, options.timeoutMs, signal);
    const result: DemoResult = {
      studyInstanceUID: study.studyInstanceUID,
      resultsInOrthanc: false,
      groundTruth: { label: truth.tumour.label, stromaFraction: truth.tumour.stromaFraction },
    };
    if (!job) {
      print(`  no result after ${seconds(options.timeoutMs)}; the node's log is ${logFile}`);
      keepWorkDir = true;
      return result;
    }
    result.job = job;
    printJob(job, sentAt, print);
    if (job.state !== 'done') {
      print(`  reason: ${job.reason?.code ?? '?'}: ${job.reason?.message ?? ''}`);
      keepWorkDir = true;
    } else {
      await recordResults(node, job, result, print);
    }

    // 5. The answer.
    result.viewerUrl = await viewerLink(options, node, study.studyInstanceUID);
    printAnswer(result, truth, node, workspace.token, print);
    await stayUpIfKept(options);
    return result;
  } catch (err) {
    if (err instanceof DemoAborted) return 'interrupted';
    keepWorkDir = true;
    throw err;
  } finally {
    if (signal.aborted) print('Stopping Orthanc and the node ...');
    await node?.stop({ timeoutMs: 5000 }).catch(() => undefined);
    await orthanc?.stop().catch(() => undefined);
    await new Promise<void>((resolve) => log.end(() => resolve()));
    if (keepWorkDir && !signal.aborted) print(`  (kept for inspection: ${workDir})`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}
