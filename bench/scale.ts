/**
 * Scale benchmark (issue 23, "Scale measured"): studies per minute of one node and of two nodes on
 * the same Orthanc and the same PostgreSQL, with the embedded SQLite store's one-node figure
 * beside them, all measured in one run on one machine.
 *
 * One private Orthanc (orthanc-config, StableAge 2 s) holds a backlog of STUDIES synthetic
 * dual-phase studies (2 x SLICES slices of COLUMNS^2, fixed seeds), all stored and stable before a
 * phase starts; one PostgreSQL (test/harness/postgres.ts) gives each phase a fresh database. Each
 * phase starts fresh `tsr-node serve` processes (prepare-ahead off, worker.concurrency 1,
 * models.intraOpThreads 1), each pinned to a core of its own with `taskset -c` (the first node to
 * core 0, the second to core 1); Orthanc, PostgreSQL and this process are not pinned. Once every
 * node serves, the whole backlog is queued at once through the first node's API (a manual trigger
 * per study, within a second), so that no node starts before the others; the nodes take no
 * webhook and follow no change feed (feed.mode `webhook`, nothing calling it), so the follow-up
 * jobs of our own results do not mix in.
 *
 *   sqlite-1    one node, SQLite in its data directory
 *   postgres-1  one node on PostgreSQL
 *   postgres-2  two nodes on one PostgreSQL database
 *
 * Throughput: STUDIES / (the last job finished - the first job started), from the job store's own
 * timestamps; start-up and model loading are not counted. The log also gives the CPU seconds the
 * nodes and Orthanc spent per study and the load average, which say where a ratio comes from
 * (two nodes on two cores also share them with Orthanc, PostgreSQL and whatever else runs). After each phase the
 * results must be right (every study: its job done, exactly one SR, SC and SEG, those the job names)
 * or the bench fails; then the results are deleted from Orthanc so the next phase does the same work.
 * Uses models/ when the trained models are there, else the tiny test fixtures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configSchema } from '../src/config/schema';
import { createDicomWebClient } from '../src/dicomweb/client';
import type { Job } from '../src/jobs/jobStore';
import { freePort, startLocalOrthanc, type LocalOrthanc } from '../src/node/localOrthanc';
import { PROJECT_ROOT } from '../src/paths';
import { generateStudy } from '../src/synthetic';
import { startPostgres, type PostgresServer } from '../test/harness/postgres';
import type { BenchContext, BenchModule, Figure } from './benchModule';

const STUDIES = 12;
/** Each phase runs this many times, the phases interleaved (sqlite-1, postgres-1, postgres-2, sqlite-1, ...); medians are reported. */
const ROUNDS = 3;
/**
 * Seeds whose studies the trained models analyse at this size (bench/backlog.ts found 7109 refused:
 * tumour-not-found, a skipped job with no results); a refusal fails this bench too.
 */
const SEEDS = [7101, 7102, 7103, 7104, 7105, 7106, 7107, 7108, 7110, 7111, 7112, 7113];
const COLUMNS = 256;
const SLICES = 64;
const STABLE_AGE_S = 2;
const SIZE = `2 x ${SLICES} x ${COLUMNS}^2`;
const TOKEN = 'bench-token-0123456789abcdef';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

interface Phase {
  label: string;
  /** Cores of the nodes, one node each. */
  cores: number[];
  /** Absent: SQLite in each node's data directory. */
  databaseUrl?: string;
}

interface PhaseResult {
  label: string;
  studies: number;
  elapsedMs: number;
  perMinute: number;
  /** CPU seconds per study, all the phase's nodes together, and Orthanc. */
  nodesCpuS: number;
  orthancCpuS: number;
}

interface RunningNode {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
  logFile: string;
}

/** Jobs this node finished as done, from its log. */
function jobsDoneBy(node: RunningNode): number {
  return readFileSync(node.logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"msg":"job attempt ended"') && line.includes('"result":"done"')).length;
}

function modelsDir(): { dir: string; trained: boolean } {
  const trained = path.join(PROJECT_ROOT, 'models');
  if (existsSync(path.join(trained, 'tsr-clip-fusion.json')) && existsSync(path.join(trained, 'tsr-localizer.json'))) return { dir: trained, trained: true };
  return { dir: path.join(PROJECT_ROOT, 'test', 'fixtures', 'tiny-models'), trained: false };
}

/** `tsr-node serve`: the built CLI when running from dist/, else the sources through tsx. */
function serveArgs(configFile: string): string[] {
  if (__filename.endsWith('.js')) return [path.join(PROJECT_ROOT, 'bin', 'tsr-node.js'), 'serve', '--config', configFile];
  const code = `require(${JSON.stringify(path.join(PROJECT_ROOT, 'src', 'cli', 'main.ts'))}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  return ['--require', require.resolve('tsx/cjs'), '-e', code, 'serve', '--config', configFile];
}

async function orthancRest<T>(orthanc: LocalOrthanc, method: string, route: string, body?: string): Promise<T> {
  const authorization = 'Basic ' + Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64');
  const response = await fetch(orthanc.url + route, { method, headers: { Authorization: authorization }, ...(body !== undefined ? { body } : {}) });
  if (!response.ok) throw new Error(`Orthanc ${method} ${route}: HTTP ${response.status}`);
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Generates and stores the backlog with STOW-RS; waits until Orthanc calls every study stable. */
async function storeBacklog(context: BenchContext, orthanc: LocalOrthanc): Promise<string[]> {
  const client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
  const uids: string[] = [];
  try {
    for (let i = 0; i < STUDIES; i++) {
      const study = generateStudy({ seed: SEEDS[i], columns: COLUMNS, slices: SLICES, extras: 'none', naming: 'english', timingTags: 'present' });
      for (let f = 0; f < study.files.length; f += 25) await client.store(study.files.slice(f, f + 25).map((file) => file.bytes), study.studyInstanceUID);
      uids.push(study.studyInstanceUID);
    }
  } finally {
    client.close();
  }
  context.log(`${STUDIES} studies (${SIZE}) stored; waiting for them to be stable`);
  const deadline = Date.now() + (STABLE_AGE_S + 60) * 1000;
  for (;;) {
    const studies = await orthancRest<Array<{ IsStable?: boolean }>>(orthanc, 'GET', '/studies?expand');
    if (studies.length === STUDIES && studies.every((s) => s.IsStable === true)) return uids;
    if (Date.now() > deadline) throw new Error('the backlog did not become stable');
    await sleep(250);
  }
}

async function startNode(workDir: string, orthanc: LocalOrthanc, phase: Phase, index: number, models: string): Promise<RunningNode> {
  // A fresh data directory each time: a new node id, and a new SQLite store.
  const dataDir = mkdtempSync(path.join(workDir, `${phase.label}-node-${index}-`));
  const port = await freePort();
  const config = configSchema.parse({
    dataDir,
    orthanc: { url: orthanc.url, username: orthanc.username, password: orthanc.password },
    feed: { mode: 'webhook', prepareAhead: { enabled: false } },
    worker: { concurrency: 1 },
    ...(phase.databaseUrl ? { jobs: { databaseUrl: phase.databaseUrl } } : {}),
    models: { dir: models, intraOpThreads: 1 },
    api: { port, token: TOKEN, ohifViewer: false },
  });
  const configFile = path.join(dataDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const logFile = path.join(dataDir, 'node.log');
  const log = openSync(logFile, 'a');
  const child = spawn('taskset', ['-c', String(phase.cores[index]), process.execPath, ...serveArgs(configFile)], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`node ${index} of ${phase.label} exited at start; see ${dataDir}/node.log`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { child, url, exited, logFile };
    if (Date.now() > deadline) throw new Error(`node ${index} of ${phase.label} did not start; see ${dataDir}/node.log`);
    await sleep(100);
  }
}

async function jobsOf(node: RunningNode): Promise<Job[]> {
  const response = await fetch(`${node.url}/api/jobs?limit=500`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  return ((await response.json()) as { jobs: Job[] }).jobs;
}

/** Queues every study at once through the node's API (manual triggers). */
async function queueBacklog(node: RunningNode, uids: string[]): Promise<void> {
  await Promise.all(
    uids.map(async (uid) => {
      const response = await fetch(`${node.url}/api/studies/${uid}/analyze`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}` } });
      if (response.status !== 202 && response.status !== 201) throw new Error(`queueing study ${uid}: HTTP ${response.status} ${await response.text()}`);
    }),
  );
}

/** The first job of each study, once all of them are finished; a job that did not end done fails the bench. */
async function waitForBacklog(node: RunningNode, uids: string[]): Promise<Job[]> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    const jobs = await jobsOf(node).catch(() => [] as Job[]);
    const first = uids.map((uid) => jobs.filter((job) => job.studyInstanceUID === uid).sort((a, b) => a.id - b.id)[0]);
    const failed = first.find((job) => job && job.state !== 'done' && job.state !== 'queued' && job.state !== 'running');
    if (failed) throw new Error(`job ${failed.id} of study ${failed.studyInstanceUID} ended ${failed.state}: ${failed.reason?.code ?? ''} ${failed.reason?.message ?? ''}`);
    if (first.every((job) => job?.state === 'done')) return first;
    if (Date.now() > deadline) throw new Error(`the backlog was not done in 20 min (${first.filter((job) => job?.state === 'done').length} of ${uids.length})`);
    await sleep(250);
  }
}

/** Every study has exactly one instance per result its job names, and no other result; then they are deleted for the next phase. */
async function checkAndDeleteResults(orthanc: LocalOrthanc, jobs: Job[]): Promise<void> {
  for (const job of jobs) {
    const [study] = await orthancRest<Array<{ ID: string }>>(orthanc, 'POST', '/tools/lookup', job.studyInstanceUID);
    const series = await orthancRest<Array<{ ID: string; Instances: string[]; MainDicomTags: { Modality?: string } }>>(orthanc, 'GET', `/studies/${study.ID}/series`);
    const results = series.filter((s) => s.MainDicomTags.Modality !== 'CT');
    const instances = results.reduce((n, s) => n + s.Instances.length, 0);
    const expected = job.resultUids?.length ?? 0;
    if (expected === 0 || instances !== expected || results.length !== expected) {
      throw new Error(`study ${job.studyInstanceUID}: ${instances} result instances in ${results.length} series in Orthanc, the job names ${expected}`);
    }
    for (const s of results) await orthancRest(orthanc, 'DELETE', `/series/${s.ID}`);
  }
}

async function stopNodes(nodes: RunningNode[]): Promise<void> {
  for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGTERM');
  await Promise.all(nodes.map((node) => node.exited));
}

async function runPhase(context: BenchContext, workDir: string, orthanc: LocalOrthanc, phase: Phase, uids: string[], models: string): Promise<PhaseResult> {
  const nodes: RunningNode[] = [];
  try {
    nodes.push(...(await Promise.all(phase.cores.map((_, i) => startNode(workDir, orthanc, phase, i, models)))));
    const cpuBefore = { nodes: nodes.map((node) => cpuSeconds(node.child.pid)), orthanc: cpuSeconds(orthanc.pid) };
    await queueBacklog(nodes[0], uids);
    const jobs = await waitForBacklog(nodes[0], uids);
    const nodesCpu = nodes.reduce((sum, node, i) => sum + cpuSeconds(node.child.pid) - cpuBefore.nodes[i], 0);
    const orthancCpu = cpuSeconds(orthanc.pid) - cpuBefore.orthanc;
    const started = Math.min(...jobs.map((job) => Date.parse(job.startedAt ?? job.createdAt)));
    const finished = Math.max(...jobs.map((job) => Date.parse(job.finishedAt ?? '')));
    const elapsedMs = finished - started;
    const result: PhaseResult = {
      label: phase.label,
      studies: uids.length,
      elapsedMs,
      perMinute: uids.length / (elapsedMs / 60_000),
      nodesCpuS: nodesCpu / uids.length,
      orthancCpuS: orthancCpu / uids.length,
    };
    context.log(
      `${phase.label}: ${uids.length} studies in ${(elapsedMs / 1000).toFixed(1)} s = ${result.perMinute.toFixed(1)} studies/min (cores ${phase.cores.join(', ')}); ` +
        `CPU per study: nodes ${(nodesCpu / uids.length).toFixed(2)} s, Orthanc ${(orthancCpu / uids.length).toFixed(2)} s; ` +
        `jobs done per node ${nodes.map(jobsDoneBy).join(' + ')}; load average ${os.loadavg()[0].toFixed(1)}`,
    );
    await stopNodes(nodes);
    await checkAndDeleteResults(orthanc, jobs);
    return result;
  } finally {
    await stopNodes(nodes);
  }
}

/** The median phase of `runs` by throughput, with every run's figure as samples. */
function medianRun(runs: PhaseResult[]): { run: PhaseResult; samples: number[] } {
  const sorted = [...runs].sort((a, b) => a.perMinute - b.perMinute);
  return { run: sorted[Math.floor(sorted.length / 2)], samples: runs.map((r) => Number(r.perMinute.toFixed(2))) };
}

function figures(runs: PhaseResult[], tag: string): Figure[] {
  const of = (label: string): { run: PhaseResult; samples: number[] } => medianRun(runs.filter((r) => r.label === label));
  const [sqlite, one, two] = [of('sqlite-1'), of('postgres-1'), of('postgres-2')];
  const sqliteBaseline = { name: 'one node, SQLite', value: sqlite.run.perMinute };
  const perStudy = (label: string, pick: (r: PhaseResult) => number): number => medianRun(runs.filter((r) => r.label === label).map((r) => ({ ...r, perMinute: pick(r) }))).run.perMinute;
  const nodeCpu = perStudy('postgres-1', (r) => r.nodesCpuS);
  const orthancCpu = perStudy('postgres-1', (r) => r.orthancCpuS);
  return [
    {
      id: 'scale_two_nodes_studies_per_min',
      name: `two nodes on one PostgreSQL, a core each: studies per minute, backlog of ${STUDIES} (${SIZE}), median of ${ROUNDS}${tag}`,
      value: two.run.perMinute,
      unit: 'studies/min',
      baseline: { name: 'one node, PostgreSQL', value: one.run.perMinute },
      goal: '>= 1.7x one node',
      samples: two.samples,
    },
    { id: 'scale_one_node_postgres_studies_per_min', name: '  one node on PostgreSQL, one core', value: one.run.perMinute, unit: 'studies/min', baseline: sqliteBaseline, samples: one.samples },
    { id: 'scale_two_nodes_vs_sqlite_studies_per_min', name: '  two nodes on PostgreSQL against one node on SQLite', value: two.run.perMinute, unit: 'studies/min', baseline: sqliteBaseline, samples: two.samples },
    { id: 'scale_one_node_sqlite_studies_per_min', name: '  one node on SQLite, one core', value: sqlite.run.perMinute, unit: 'studies/min', samples: sqlite.samples },
    { id: 'scale_node_cpu_per_study_s', name: '  CPU per study: the node (one node on PostgreSQL)', value: nodeCpu, unit: 's' },
    { id: 'scale_orthanc_cpu_per_study_s', name: '  CPU per study: Orthanc, on the same cores', value: orthancCpu, unit: 's' },
    {
      id: 'scale_two_core_bound_ratio',
      name: '  bound of the two-node ratio when Orthanc shares the two cores: 2 x node / (node + Orthanc)',
      value: (2 * nodeCpu) / (nodeCpu + orthancCpu),
      unit: 'x',
    },
  ];
}

export const scaleBench: BenchModule = {
  name: 'scale',
  async run(context: BenchContext): Promise<Figure[]> {
    if (os.cpus().length < 2) throw new Error('the scale bench pins two nodes to cores 0 and 1: it needs two cores');
    const models = modelsDir();
    if (!models.trained) context.log('models/ has no trained models yet: using the tiny test fixtures');
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-bench-scale-'));
    let orthanc: LocalOrthanc | undefined;
    let postgres: PostgresServer | undefined;
    try {
      [orthanc, postgres] = await Promise.all([startLocalOrthanc({ workDir, stableAgeSeconds: STABLE_AGE_S }), startPostgres()]);
      const uids = await storeBacklog(context, orthanc);
      const runs: PhaseResult[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        runs.push(await runPhase(context, workDir, orthanc, { label: 'sqlite-1', cores: [0] }, uids, models.dir));
        runs.push(await runPhase(context, workDir, orthanc, { label: 'postgres-1', cores: [0], databaseUrl: (await postgres.createDatabase()).url }, uids, models.dir));
        runs.push(await runPhase(context, workDir, orthanc, { label: 'postgres-2', cores: [0, 1], databaseUrl: (await postgres.createDatabase()).url }, uids, models.dir));
      }
      return figures(runs, models.trained ? '' : ' (tiny test models)');
    } finally {
      await orthanc?.stop();
      await postgres?.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
  },
};
