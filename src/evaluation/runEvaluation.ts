/**
 * `tsr-node evaluate`: a held-out synthetic cohort (seeds from EVALUATION_SEED_START on, never
 * used in training) per centre profile, through the node's own path and the shipped models, on
 * worker threads; then DIR/evaluation.json (all studies, and per profile), DIR/cases.json (one
 * record per study), DIR/evaluation.md (a row per profile, then the model card's table per
 * profile), DIR/roc.png (all studies) and DIR/roc-<profile>.png.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProgressBar } from '../common/progressBar';
import { runInWorkers } from '../dataset/workerPool';
import { releaseModels } from '../inference/models';
import { silentLogger, type Logger } from '../logging/logger';
import { DEFAULT_CENTRE_PROFILE, GENERATOR_VERSION, loadCentreProfile } from '../synthetic';
import { evaluatePrepared, loadEvaluationModels, type EvaluationCase, type EvaluationModelNames, type EvaluationModels, type EvaluationSettings, type PreparedStudy } from './evaluationCase';
import { buildEvaluationReport, type EvaluationReport, type ProfileCohort } from './evaluationReport';
import { evaluationMarkdown } from './evaluationTables';
import type { CohortCurves, FailedStudy } from './cohortFigures';
import { MODEL_COLOURS, renderRocPlot } from './rocPlot';
import { checkEvaluationSeeds } from '../common/seedRanges';

export interface RunEvaluationOptions {
  seed: number;
  count: number;
  outDir: string;
  /** Centre profiles (src/synthetic/profiles/), one cohort of the same seeds each; default [baseline]. */
  profiles?: string[];
  models: EvaluationModelNames;
  /** Image size of the generated studies; the generator's default (512 x 512, 100 slices) when absent. */
  columns?: number;
  slices?: number;
  /** Worker threads that generate and assemble studies (the models run in the main thread). */
  workers?: number;
  /** onnxruntime intra-op threads of the main thread's sessions (default 1: the workers use the other cores). */
  intraOpThreads?: number;
  bootstrapReplicates?: number;
  progress?: boolean;
  logger?: Logger;
  now?: () => Date;
}

export interface RunEvaluationResult {
  report: EvaluationReport;
  files: { json: string; cases: string; table: string; roc: string; rocByProfile: Record<string, string> };
}

/** The profiles to evaluate, checked (an unknown name fails here, before any model is loaded). */
function profileList(options: RunEvaluationOptions): Array<{ profile: string; heldOut: boolean }> {
  const names = options.profiles?.length ? options.profiles : [DEFAULT_CENTRE_PROFILE];
  if (new Set(names).size !== names.length) throw new Error(`a profile is listed twice: ${names.join(', ')}`);
  return names.map((name) => ({ profile: name, heldOut: loadCentreProfile(name).heldOut }));
}

export async function runEvaluation(options: RunEvaluationOptions): Promise<RunEvaluationResult> {
  checkEvaluationSeeds(options.seed, options.count);
  const profiles = profileList(options);
  const started = Date.now();
  // The models run in this thread, loaded once (a bad model fails here, before any generation).
  const models = await loadEvaluationModels(options.models, { intraOpThreads: options.intraOpThreads ?? 1, executionProvider: 'cpu' });
  try {
    const cohorts: ProfileCohort[] = [];
    for (const p of profiles) cohorts.push({ ...p, ...(await evaluateProfile(options, models, p.profile)) });
    return writeOutputs(options, models, cohorts, started);
  } finally {
    await releaseModels({ ...models });
  }
}

/** One profile's cohort: every seed generated with the profile, through the node's path. */
async function evaluateProfile(options: RunEvaluationOptions, models: EvaluationModels, profile: string): Promise<Pick<ProfileCohort, 'cases' | 'failed' | 'seconds'>> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const seeds = Array.from({ length: options.count }, (_, n) => options.seed + n);
  const settings: EvaluationSettings = { profile };
  if (options.columns !== undefined) settings.columns = options.columns;
  if (options.slices !== undefined) settings.slices = options.slices;
  const cases: EvaluationCase[] = [];
  const failed: FailedStudy[] = [];
  const bar = options.progress === false ? { tick: () => undefined, done: () => undefined } : createProgressBar({ total: seeds.length, label: `evaluate ${profile}` });
  await runInWorkers<number, PreparedStudy>({ modulePath: path.join(__dirname, 'evaluateWorker'), size: options.workers ?? os.cpus().length, data: settings }, seeds, async (outcome) => {
    const seed = seeds[outcome.index];
    let error = outcome.error ? `${outcome.error.name}: ${outcome.error.message}` : undefined;
    if (outcome.result) {
      try {
        const evaluated = await evaluatePrepared(models, outcome.result);
        cases.push(evaluated);
        bar.tick(1, !evaluated.analysed);
        return;
      } catch (err) {
        error = `${(err as Error).name}: ${(err as Error).message}`;
      }
    }
    failed.push({ seed, profile, error: error ?? 'unknown failure' });
    logger.warn('evaluation study failed', { seed, profile, error });
    bar.tick(1, true);
  });
  bar.done();
  cases.sort((a, b) => a.seed - b.seed);
  return { cases, failed, seconds: (Date.now() - started) / 1000 };
}

function rocPng(curves: CohortCurves, figures: { auc: EvaluationReport['auc']; oracleAuc: EvaluationReport['oracleAuc']; nAnalysed: number; n: number }, title: string, seeds: EvaluationReport['seeds']): Buffer {
  return renderRocPlot(
    [
      { label: 'fused (both phases)', points: curves.fused, auc: figures.auc.fused, colour: MODEL_COLOURS.fused },
      { label: 'arterial only', points: curves.arterial, auc: figures.auc.arterial, colour: MODEL_COLOURS.arterial },
      { label: 'venous only', points: curves.venous, auc: figures.auc.venous, colour: MODEL_COLOURS.venous },
      { label: 'oracle (fused)', points: curves.oracleFused, auc: figures.oracleAuc.fused, colour: '#777777', dashed: true },
    ],
    { title, subtitle: `n = ${figures.nAnalysed} analysed of ${figures.n}, seeds ${seeds.from}..${seeds.to}; research use only` },
  );
}

function writeOutputs(options: RunEvaluationOptions, models: EvaluationModels, cohorts: ProfileCohort[], started: number): RunEvaluationResult {
  mkdirSync(options.outDir, { recursive: true });
  const { report, curves } = buildEvaluationReport({
    cohorts,
    seeds: { from: options.seed, to: options.seed + options.count - 1 },
    imageSize: { columns: options.columns ?? 512, slices: options.slices ?? 100 },
    generator: GENERATOR_VERSION,
    models: {
      fused: models.fused.identity,
      arterial: models.arterial.identity,
      venous: models.venous.identity,
      localizer: models.localizer.identity,
      ...(models.pancreas ? { pancreas: models.pancreas.identity } : {}),
    },
    thresholds: { fused: models.fused.threshold, arterial: models.arterial.threshold, venous: models.venous.threshold },
    bootstrap: { replicates: options.bootstrapReplicates ?? 2000, seed: options.seed },
    seconds: (Date.now() - started) / 1000,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
  });
  const rocName = (profile: string): string => `roc-${profile}.png`;
  const files: RunEvaluationResult['files'] = {
    json: path.join(options.outDir, 'evaluation.json'),
    cases: path.join(options.outDir, 'cases.json'),
    table: path.join(options.outDir, 'evaluation.md'),
    roc: path.join(options.outDir, 'roc.png'),
    rocByProfile: Object.fromEntries(cohorts.map((c) => [c.profile, path.join(options.outDir, rocName(c.profile))])),
  };
  writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(files.cases, JSON.stringify(cohorts.flatMap((c) => c.cases), null, 1) + '\n');
  writeFileSync(files.table, evaluationMarkdown(report, rocName));
  writeFileSync(files.roc, rocPng(curves.all, report, `TSR high vs low: held-out synthetic cohort (${report.profiles.length === 1 ? report.cohort : 'all profiles'})`, report.seeds));
  for (const p of report.profiles) {
    writeFileSync(files.rocByProfile[p.profile], rocPng(curves.byProfile[p.profile], p, `TSR high vs low: profile ${p.profile} (${p.heldOut ? 'held out' : 'training profile'})`, report.seeds));
  }
  return { report, files };
}
