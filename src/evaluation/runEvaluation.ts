/**
 * `tsr-node evaluate`: a held-out synthetic cohort (seeds from EVALUATION_SEED_START on, never
 * used in training) through the node's own path and the shipped models, on worker threads; then
 * DIR/evaluation.json, DIR/cases.json (one record per study), DIR/evaluation.md (the model card's
 * table) and DIR/roc.png.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createProgressBar } from '../common/progressBar';
import { runInWorkers } from '../dataset/workerPool';
import { releaseModels } from '../inference/models';
import { silentLogger, type Logger } from '../logging/logger';
import { evaluatePrepared, loadEvaluationModels, type EvaluationCase, type EvaluationModelNames, type EvaluationModels, type EvaluationSettings, type PreparedStudy } from './evaluationCase';
import { buildEvaluationReport, evaluationTable, type EvaluationReport } from './evaluationReport';
import { MODEL_COLOURS, renderRocPlot } from './rocPlot';
import { checkEvaluationSeeds } from '../common/seedRanges';

export interface RunEvaluationOptions {
  seed: number;
  count: number;
  outDir: string;
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
  files: { json: string; cases: string; table: string; roc: string };
}

export async function runEvaluation(options: RunEvaluationOptions): Promise<RunEvaluationResult> {
  checkEvaluationSeeds(options.seed, options.count);
  const started = Date.now();
  // The models run in this thread, loaded once (a bad model fails here, before any generation).
  const models = await loadEvaluationModels(options.models, { intraOpThreads: options.intraOpThreads ?? 1, executionProvider: 'cpu' });
  try {
    return await evaluate(options, models, started);
  } finally {
    await releaseModels({ ...models });
  }
}

async function evaluate(options: RunEvaluationOptions, models: EvaluationModels, started: number): Promise<RunEvaluationResult> {
  const logger = options.logger ?? silentLogger;
  mkdirSync(options.outDir, { recursive: true });
  const seeds = Array.from({ length: options.count }, (_, n) => options.seed + n);
  const settings: EvaluationSettings = {};
  if (options.columns !== undefined) settings.columns = options.columns;
  if (options.slices !== undefined) settings.slices = options.slices;
  const cases: EvaluationCase[] = [];
  const failed: Array<{ seed: number; error: string }> = [];
  const bar = options.progress === false ? { tick: () => undefined, done: () => undefined } : createProgressBar({ total: seeds.length, label: 'evaluate' });
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
    failed.push({ seed, error: error ?? 'unknown failure' });
    logger.warn('evaluation study failed', { seed, error });
    bar.tick(1, true);
  });
  bar.done();
  cases.sort((a, b) => a.seed - b.seed);
  const { report, curves } = buildEvaluationReport({
    cases,
    failed,
    seeds: { from: options.seed, to: options.seed + options.count - 1 },
    imageSize: { columns: options.columns ?? 512, slices: options.slices ?? 100 },
    models: { fused: models.fused.identity, arterial: models.arterial.identity, venous: models.venous.identity, localizer: models.localizer.identity },
    thresholds: { fused: models.fused.threshold, arterial: models.arterial.threshold, venous: models.venous.threshold },
    bootstrap: { replicates: options.bootstrapReplicates ?? 2000, seed: options.seed },
    seconds: (Date.now() - started) / 1000,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
  });
  const files = {
    json: path.join(options.outDir, 'evaluation.json'),
    cases: path.join(options.outDir, 'cases.json'),
    table: path.join(options.outDir, 'evaluation.md'),
    roc: path.join(options.outDir, 'roc.png'),
  };
  writeFileSync(files.json, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(files.cases, JSON.stringify(cases, null, 1) + '\n');
  writeFileSync(files.table, evaluationTable(report));
  const png = renderRocPlot(
    [
      { label: 'fused (both phases)', points: curves.fused, auc: report.auc.fused, colour: MODEL_COLOURS.fused },
      { label: 'arterial only', points: curves.arterial, auc: report.auc.arterial, colour: MODEL_COLOURS.arterial },
      { label: 'venous only', points: curves.venous, auc: report.auc.venous, colour: MODEL_COLOURS.venous },
      { label: 'oracle (fused)', points: curves.oracleFused, auc: report.oracleAuc.fused, colour: '#777777', dashed: true },
    ],
    {
      title: 'TSR high vs low: held-out synthetic cohort',
      subtitle: `n = ${report.nAnalysed} analysed of ${report.n}, seeds ${report.seeds.from}..${report.seeds.to}; research use only`,
    },
  );
  writeFileSync(files.roc, png);
  return { report, files };
}
