/**
 * End-to-end benchmark (issue 7): a synthetic dual-phase study of 2 x 100 slices of 512 x 512
 * sent to a private Orthanc (orthanc-config, webhook on, StableAge 3 s) with STOW-RS, analysed by a
 * `tsr-node serve` child process (feed mode `both`, /changes polled every second), measured from
 * the last instance stored to both results stored.
 *
 * - `stable_wait_ms`: last instance stored -> Orthanc's StableStudy reaches the node (its webhook,
 *   or the feed's poll when that saw it first) (StableAge plus Orthanc's once-a-second check),
 *   printed apart: it is a site setting.
 * - `e2e_after_stable_ms`: StableStudy reached the node -> the job is done (SR and SC stored), with each
 *   stage: intake (reading the study from Orthanc), queue wait, then the pipeline's stages. The
 *   node runs as shipped, with prepare-ahead on (quietSeconds 1): the study is analysed while
 *   Orthanc waits for StableAge, and after StableStudy the job only stores the results when the
 *   content is still the one analysed. `prepare_ahead_ms` is that work, done before stable, and
 *   `prepared_ahead_used_studies` says for how many studies the job used it.
 * - `e2e_full_path_after_stable_ms`: the same, measured by a second node process with
 *   prepare-ahead off (every stage after stable, as before prepare-ahead), on the same Orthanc.
 * - `floor_ms`, measured in the same run on the same Orthanc: curl retrieval of both series (in
 *   parallel, as the node does) plus the models' inference alone (ONNX time of the localiser on
 *   both phases and of the classifier, on volumes already in memory).
 * - `peak_rss_mb`: the node process's peak resident memory (VmHWM), models loaded and three
 *   studies analysed (prepare-ahead on).
 *
 * The node runs as its own process, as in production; timestamps come from its JSON log lines.
 * Three studies (three seeds) per node, one after the other; medians are reported. Uses models/
 * when the trained models are there, else the tiny test fixtures (and says so).
 */
import { TRANSFER_SYNTAX } from '../src/dicom/dictionary';
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { configSchema } from '../src/config/schema';
import { createDicomWebClient } from '../src/dicomweb/client';
import { analyseStudy } from '../src/inference/analyse';
import { releaseModels } from '../src/inference/models';
import { loadModelSet } from '../src/inference/modelSet';
import type { Job } from '../src/jobs/jobStore';
import { freePort, startLocalOrthanc, type LocalOrthanc } from '../src/node/localOrthanc';
import { PROJECT_ROOT } from '../src/paths';
import { PIPELINE_STAGES } from '../src/pipeline/analyseStudy';
import { retrieveSeriesVolume } from '../src/study/retrieveVolume';
import { generateStudy } from '../src/synthetic';
import { median, type BenchContext, type BenchModule, type Figure } from './benchModule';

const run = promisify(execFile);
const STUDIES = 3;
const FLOOR_REPETITIONS = 3;
const STABLE_AGE_S = 3;
const QUIET_SECONDS = 1;
const ACCEPT = `multipart/related; type="application/dicom"; transfer-syntax=${TRANSFER_SYNTAX.explicitVrLittleEndian}`;

export interface LogLine {
  time: string;
  msg: string;
  [key: string]: unknown;
}

interface StudyRun {
  stableWaitMs: number;
  afterStableMs: number;
  stagesMs: Record<string, number>;
  /** Work done before stable (prepare-ahead), when the job used it. */
  preparedAheadMs?: number;
  /** Whether the job used a result prepared ahead. */
  preparedUsed: boolean;
}

interface PhaseRun {
  runs: StudyRun[];
  peakRssMb: number;
  /** The last study, its series, and the two the job selected. */
  last: { studyInstanceUID: string; series: string[]; arterial: string; venous: string };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function modelsDir(): { dir: string; trained: boolean } {
  const trained = path.join(PROJECT_ROOT, 'models');
  if (existsSync(path.join(trained, 'tsr-clip-fusion.json')) && existsSync(path.join(trained, 'tsr-localizer.json'))) return { dir: trained, trained: true };
  return { dir: path.join(PROJECT_ROOT, 'test', 'fixtures', 'tiny-models'), trained: false };
}

/** The `tsr-node serve` command line: the built CLI when running from dist/, else the sources through tsx. */
function serveCommand(configFile: string): string[] {
  if (__filename.endsWith('.js')) return [path.join(PROJECT_ROOT, 'bin', 'tsr-node.js'), 'serve', '--config', configFile];
  const code = `require(${JSON.stringify(path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts'))}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  return ['--require', require.resolve('tsx/cjs'), '-e', code, 'serve', '--config', configFile];
}

async function curlBothMs(orthanc: LocalOrthanc, study: string, series: string[]): Promise<number> {
  const auth = `${orthanc.username}:${orthanc.password}`;
  const started = process.hrtime.bigint();
  await Promise.all(
    series.map((seriesUID) => run('curl', ['-s', '-f', '-o', '/dev/null', '-u', auth, '-H', `Accept: ${ACCEPT}`, `${orthanc.dicomWebUrl}/studies/${study}/series/${seriesUID}`])),
  );
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function vmHwmMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

type NodeSetup = { workDir: string; orthanc: LocalOrthanc; apiPort: number; token: string; modelsDir: string };
type NodePhase = { label: string; prepareAhead: boolean; seeds: number[] };

/** A running `tsr-node serve` child: its JSON log lines so far, its API, and a wait on either. */
export interface NodeProcess {
  child: ChildProcessByStdio<null, null, Readable>;
  lines: LogLine[];
  api: <T>(route: string) => Promise<T>;
  /** Polls `probe` every 20 ms until it gives a value; fails when the node exits or after `timeoutMs`. */
  waitFor: <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs?: number) => Promise<T>;
}

/** Writes the node's config for this phase; returns the file. */
function writeNodeConfig(setup: NodeSetup, phase: NodePhase): string {
  const { workDir, orthanc, apiPort, token } = setup;
  const config = configSchema.parse({
    dataDir: path.join(workDir, 'node-data'),
    orthanc: { url: orthanc.url, username: orthanc.username, password: orthanc.password },
    // Both ways in, as the admin guide recommends with the webhook; polling every second also
    // shows the node the instances as they arrive (prepare-ahead).
    feed: { mode: 'both', pollSchedule: '* * * * * *', prepareAhead: { enabled: phase.prepareAhead, quietSeconds: QUIET_SECONDS } },
    models: { dir: setup.modelsDir },
    api: { port: apiPort, token, ohifViewer: false },
  });
  const configFile = path.join(workDir, `config-${phase.label}.json`);
  writeFileSync(configFile, JSON.stringify(config));
  return configFile;
}

export function startNodeProcess(configFile: string, apiPort: number, token: string): NodeProcess {
  const nodeUrl = `http://127.0.0.1:${apiPort}`;
  const child = spawn(process.execPath, serveCommand(configFile), { stdio: ['ignore', 'ignore', 'pipe'] });
  const lines: LogLine[] = [];
  let pending = '';
  child.stderr.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      if (part.startsWith('{')) lines.push(JSON.parse(part) as LogLine);
    }
  });
  const api = async <T>(route: string): Promise<T> => (await (await fetch(nodeUrl + route, { headers: { Authorization: `Bearer ${token}` } })).json()) as T;
  const waitFor = async <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 600_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (child.exitCode !== null) throw new Error(`the node exited while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  };
  return { child, lines, api, waitFor };
}

/** Stores the study with STOW-RS, 25 instances a request; returns when the last one is stored. */
export async function storeStudy(orthanc: LocalOrthanc, study: ReturnType<typeof generateStudy>): Promise<number> {
  const client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
  try {
    for (let i = 0; i < study.files.length; i += 25) await client.store(study.files.slice(i, i + 25).map((file) => file.bytes), study.studyInstanceUID);
  } finally {
    client.close();
  }
  return Date.now();
}

/** Intake and queue from the job's times, the pipeline's stages, and the rest as `other`. */
function jobStagesMs(job: Job, stableAt: number, endedAt: number): Record<string, number> {
  const stagesMs: Record<string, number> = {
    intake: Date.parse(job.createdAt) - stableAt,
    queue: Date.parse(job.startedAt ?? job.createdAt) - Date.parse(job.createdAt),
  };
  for (const stage of PIPELINE_STAGES) if (job.timingsMs?.[stage] !== undefined) stagesMs[stage] = job.timingsMs[stage];
  const accounted = Object.values(stagesMs).reduce((sum, stageMs) => sum + stageMs, 0);
  stagesMs.other = Math.max(0, endedAt - stableAt - accounted);
  return stagesMs;
}

type PreparedAhead = { used?: boolean; preparedAt?: string; reason?: string };

/** What the log line says of prepare-ahead for one study (nothing when it is off). */
function preparedNote(phase: NodePhase, prepared: PreparedAhead | undefined, preparedAheadMs: number | undefined, stableAt: number): string {
  if (!phase.prepareAhead) return '';
  if (prepared?.used === true) return `; prepared ahead ${Math.round(preparedAheadMs ?? 0)} ms, ${stableAt - Date.parse(prepared?.preparedAt ?? '')} ms before stable: used`;
  return `; prepared result not used${prepared?.used === false ? ` (discarded: ${String(prepared.reason)})` : ' (none)'}`;
}

/** One study through the node: stored, analysed, its job's times read back from the log and the API. */
async function runOneStudy(context: BenchContext, node: NodeProcess, orthanc: LocalOrthanc, phase: NodePhase, index: number): Promise<{ run: StudyRun; last: PhaseRun['last'] }> {
  const { lines, api, waitFor } = node;
  const study = generateStudy({ seed: phase.seeds[index], columns: 512, slices: 100, extras: 'none', naming: 'english', timingTags: 'present' });
  const series = [...new Set(study.files.map((file) => file.seriesInstanceUID))];
  const firstLine = lines.length;
  const lastStoredAt = await storeStudy(orthanc, study);
  context.log(`${phase.label} study ${index + 1}/${phase.seeds.length}: ${study.files.length} instances stored; waiting for the node`);
  const ended = await waitFor('the job', () =>
    lines.slice(firstLine).find((line) => line.msg === 'job attempt ended' && line.studyInstanceUID === study.studyInstanceUID && (line.result === 'done' || line.result === 'skipped' || line.result === 'failed')),
  );
  if (ended.result !== 'done') throw new Error(`the job ended ${String(ended.result)}: see the node's log`);
  const job = await api<Job>(`/api/jobs/${String(ended.jobId)}`);
  // Stable: the webhook for this study, or the feed's poll when it saw StableStudy first (mode both).
  const webhook = await waitFor('the webhook', () => lines.slice(firstLine).find((line) => line.msg === 'webhook: StableStudy received' && line.orthancStudyId === job.orthancStudyId), 10_000);
  const webhookAt = Math.min(Date.parse(webhook.time), Date.parse(job.createdAt));
  const endedAt = Date.parse(ended.time);
  const stagesMs = jobStagesMs(job, webhookAt, endedAt);
  const prepared = (job.outcome as { preparedAhead?: PreparedAhead } | undefined)?.preparedAhead;
  const preparedUsed = prepared?.used === true;
  const preparedAheadMs = preparedUsed ? job.timingsMs?.preparedAheadMs : undefined;
  const run: StudyRun = { stableWaitMs: webhookAt - lastStoredAt, afterStableMs: endedAt - webhookAt, stagesMs, preparedUsed, ...(preparedAheadMs !== undefined ? { preparedAheadMs } : {}) };
  context.log(
    `${phase.label} study ${index + 1}: stable wait ${webhookAt - lastStoredAt} ms, after stable ${endedAt - webhookAt} ms (${Object.entries(stagesMs)
      .map(([stage, stageMs]) => `${stage} ${Math.round(stageMs)}`)
      .join(', ')})${preparedNote(phase, prepared, preparedAheadMs, webhookAt)}`,
  );
  const selected = job.outcome as { arterial: { seriesInstanceUID: string }; venous: { seriesInstanceUID: string } };
  // Our own SR and SC make the study stable once more: let that (short) job pass before the next study.
  await waitFor(
    'the follow-up job',
    async () => {
      const { jobs } = await api<{ jobs: Job[] }>(`/api/jobs?study=${study.studyInstanceUID}`);
      return jobs.length >= 2 && jobs.every((studyJob) => studyJob.state === 'done' || studyJob.state === 'skipped' || studyJob.state === 'failed') ? true : undefined;
    },
    (STABLE_AGE_S + 10) * 1000,
  ).catch(() => context.log('no follow-up job seen (continuing)'));
  return { run, last: { studyInstanceUID: study.studyInstanceUID, series, arterial: selected.arterial.seriesInstanceUID, venous: selected.venous.seriesInstanceUID } };
}

/** One `tsr-node serve` process on the Orthanc: `seeds.length` studies, one after the other. */
async function runNodePhase(context: BenchContext, setup: NodeSetup, phase: NodePhase): Promise<PhaseRun> {
  const node = startNodeProcess(writeNodeConfig(setup, phase), setup.apiPort, setup.token);
  try {
    await node.waitFor('the node to serve', () => node.lines.find((line) => line.msg === 'tsr-node serving'), 60_000);
    const runs: StudyRun[] = [];
    let last: PhaseRun['last'] | undefined;
    for (let index = 0; index < phase.seeds.length; index++) {
      const study = await runOneStudy(context, node, setup.orthanc, phase, index);
      runs.push(study.run);
      last = study.last;
    }
    return { runs, peakRssMb: vmHwmMb(node.child.pid!), last: last! };
  } finally {
    node.child.kill('SIGTERM');
    await new Promise((resolve) => (node.child.exitCode !== null ? resolve(undefined) : node.child.once('exit', resolve)));
  }
}

function stageFigures(prefix: string, label: string, runs: StudyRun[]): Figure[] {
  const stageNames = [...new Set(runs.flatMap((studyRun) => Object.keys(studyRun.stagesMs)))];
  return stageNames.map((stage) => ({
    id: `${prefix}_${stage}_ms`,
    name: `  ${label}stage ${stage}`,
    value: median(runs.map((studyRun) => studyRun.stagesMs[stage] ?? 0)),
    unit: 'ms',
    samples: runs.map((studyRun) => studyRun.stagesMs[stage] ?? 0),
  }));
}

export const e2eBench: BenchModule = {
  name: 'e2e',
  async run(context: BenchContext): Promise<Figure[]> {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-bench-e2e-'));
    const models = modelsDir();
    if (!models.trained) context.log('models/ has no trained models yet: using the tiny test fixtures (figures are not representative of the real model)');
    const token = 'bench-token-0123456789abcdef';
    const apiPort = await freePort();
    const orthanc = await startLocalOrthanc({ workDir, stableAgeSeconds: STABLE_AGE_S, webhook: { url: `http://127.0.0.1:${apiPort}/api/webhook/stable-study`, token } });
    const setup = { workDir, orthanc, apiPort, token, modelsDir: models.dir };

    try {
      const shipped = await runNodePhase(context, setup, { label: 'prepare-ahead on', prepareAhead: true, seeds: Array.from({ length: STUDIES }, (_, i) => 9001 + i) });
      const full = await runNodePhase(context, setup, { label: 'prepare-ahead off', prepareAhead: false, seeds: Array.from({ length: STUDIES }, (_, i) => 9101 + i) });

      // The floor, on the same Orthanc and the last study: curl of both series + ONNX alone.
      const { studyInstanceUID, series } = shipped.last;
      const curl: number[] = [];
      for (let r = 0; r < FLOOR_REPETITIONS; r++) curl.push(await curlBothMs(orthanc, studyInstanceUID, series));
      const loaded = await loadModelSet({ ...configSchema.parse({ models: { dir: models.dir } }).models });
      const onnx: number[] = [];
      try {
        const client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
        const arterial = (await retrieveSeriesVolume(client, studyInstanceUID, shipped.last.arterial)).volume;
        const venous = (await retrieveSeriesVolume(client, studyInstanceUID, shipped.last.venous)).volume;
        client.close();
        await analyseStudy(loaded, { arterial, venous }); // warm-up, as the node's first job had
        for (let r = 0; r < FLOOR_REPETITIONS; r++) onnx.push((await analyseStudy(loaded, { arterial, venous })).onnxMs);
      } finally {
        await releaseModels(loaded);
      }
      const floorMs = median(curl) + median(onnx);
      const afterStable = median(shipped.runs.map((studyRun) => studyRun.afterStableMs));
      const fullAfterStable = median(full.runs.map((studyRun) => studyRun.afterStableMs));
      const prepared = shipped.runs.filter((studyRun) => studyRun.preparedAheadMs !== undefined).map((studyRun) => studyRun.preparedAheadMs!);
      const tag = models.trained ? '' : ' [tiny fixture models]';
      const figures: Figure[] = [
        {
          id: 'e2e_after_stable_ms',
          name: `end to end after stable: StableStudy -> SR + SC stored (2 x 100 x 512^2), prepare-ahead on${tag}`,
          value: afterStable,
          unit: 'ms',
          baseline: { name: 'floor: curl both series + ONNX alone', value: floorMs },
          goal: '<= 1.5x floor',
          samples: shipped.runs.map((studyRun) => studyRun.afterStableMs),
        },
        { id: 'floor_ms', name: `floor: curl of both series + model inference alone${tag}`, value: floorMs, unit: 'ms', samples: curl.map((curlMs, i) => curlMs + (onnx[i] ?? median(onnx))) },
        { id: 'e2e_vs_floor_ratio', name: 'end to end after stable / floor (prepare-ahead on)', value: afterStable / floorMs, unit: 'x', goal: '<= 1.5' },
        {
          id: 'prepare_ahead_ms',
          name: `  work done before stable (prepare-ahead: discover ... build SR + SC, fingerprint reads)${tag}`,
          value: prepared.length > 0 ? median(prepared) : NaN,
          unit: 'ms',
          samples: prepared,
        },
        {
          id: 'prepared_ahead_used_studies',
          name: `  studies whose job used the result prepared ahead (of ${shipped.runs.length})`,
          value: shipped.runs.filter((studyRun) => studyRun.preparedUsed).length,
          unit: 'studies',
          samples: shipped.runs.map((studyRun) => (studyRun.preparedUsed ? 1 : 0)),
        },
        ...stageFigures('e2e_stage', '', shipped.runs),
        {
          id: 'e2e_full_path_after_stable_ms',
          name: `end to end after stable, full path (prepare-ahead off: every stage after stable)${tag}`,
          value: fullAfterStable,
          unit: 'ms',
          baseline: { name: 'floor: curl both series + ONNX alone', value: floorMs },
          samples: full.runs.map((studyRun) => studyRun.afterStableMs),
        },
        { id: 'e2e_full_path_vs_floor_ratio', name: 'full path after stable / floor', value: fullAfterStable / floorMs, unit: 'x' },
        ...stageFigures('e2e_full_path_stage', 'full path ', full.runs),
        { id: 'floor_curl_both_series_ms', name: 'floor part: curl of both series (parallel)', value: median(curl), unit: 'ms', samples: curl },
        { id: 'floor_onnx_ms', name: `floor part: ONNX time alone (localiser + classifier)${tag}`, value: median(onnx), unit: 'ms', samples: onnx },
        {
          id: 'stable_wait_ms',
          name: `stable wait: last instance stored -> StableStudy at the node (StableAge ${STABLE_AGE_S} s + Orthanc's check)`,
          value: median([...shipped.runs, ...full.runs].map((studyRun) => studyRun.stableWaitMs)),
          unit: 'ms',
          samples: [...shipped.runs, ...full.runs].map((studyRun) => studyRun.stableWaitMs),
        },
        { id: 'peak_rss_mb', name: `node process peak RSS (VmHWM) after ${STUDIES} studies, prepare-ahead on${tag}`, value: shipped.peakRssMb, unit: 'MB' },
        { id: 'peak_rss_full_path_mb', name: `node process peak RSS (VmHWM) after ${STUDIES} studies, prepare-ahead off${tag}`, value: full.peakRssMb, unit: 'MB' },
      ];
      return figures;
    } finally {
      await orthanc.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
  },
};
