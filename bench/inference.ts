/**
 * Inference benchmark (issue 5): on a synthetic 2 x 100-slice 512 x 512 study (generated and
 * assembled from its Part-10 bytes before timing),
 * - model load time (manifests, sha256, sessions; the first load in the process);
 * - localise + crop + classify + key slices (the node's analyseStudy), beside the raw onnxruntime
 *   time of the same runs (the baseline: what the models alone cost), and the median of each
 *   stage the analysis reports in timingsMs;
 * - RSS before and after 50 consecutive analyses with the same loaded models (no reload per job).
 *
 * When the configured localiser is a two-stage cascade (issue 20: its manifest has
 * preprocessing.localizer.roi), the single-stage set is timed too, on the same study in the same
 * run: the whole-volume localiser 0.4.0 kept in models/single-stage-0.4.0/ with the configured
 * classifier, the runs of the two sets interleaved so that the machine's load falls on both alike.
 * The cascade's analysis median is then printed with the single-stage median as its baseline
 * (goal: at most 300 ms on 2 cores), and each stage with the single-stage figure where it has one
 * (the cascade also reports its own stages, `pancreas` and `tumour`, inside `localise`).
 *
 * Uses the configured models (config `models`, default models/; another set with TSR_CONFIG=FILE
 * or TSR_MODELS_DIR); when the configured classifier and localiser are not there, the tiny test
 * fixtures, and says so in every figure's name.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { analyseStudy } from '../src/inference/analyse';
import { loadLocalizer, releaseModels, type LoadedLocalizer } from '../src/inference/models';
import { loadModelSet, type ModelSet, type ModelsConfig } from '../src/inference/modelSet';
import { PROJECT_ROOT } from '../src/paths';
import { generateStudy } from '../src/synthetic';
import { assembleVolumeFromFiles } from '../src/study/volumeAssembly';
import type { HuVolume } from '../src/study/volume';
import { median, type BenchContext, type BenchModule, type Figure } from './benchModule';

const TIMED_RUNS = 9;
const CONSECUTIVE_JOBS = 50;

/** The single-stage localiser the cascade is measured against (issue 20), kept beside the shipped models. */
export const SINGLE_STAGE_DIR = path.join(PROJECT_ROOT, 'models/single-stage-0.4.0');
const SINGLE_STAGE_LOCALIZER = 'tsr-localizer';
const CASCADE_GOAL = '<= 300 ms median on 2 cores';

type Volumes = { arterial: HuVolume; venous: HuVolume };

/** Medians' raw material from repeated analyses of one study with one model set. */
interface Timings {
  totals: number[];
  onnx: number[];
  /** Each stage in timingsMs except the sums (total, onnx), in the order the analysis reports them. */
  stages: Record<string, number[]>;
}

function modelsConfig(): { config: ModelsConfig; note: string } {
  const config = loadConfig().models;
  const dir = path.resolve(PROJECT_ROOT, config.dir);
  if (existsSync(path.join(dir, `${config.classifier}.json`)) && existsSync(path.join(dir, `${config.localizer}.json`))) {
    return { config: { ...config, dir }, note: '' };
  }
  return { config: { ...config, dir: path.join(PROJECT_ROOT, 'test/fixtures/tiny-models') }, note: ' [tiny test fixtures: models/ not trained yet]' };
}

async function studyVolumes(seed: number): Promise<Volumes> {
  const study = generateStudy({ seed, extras: 'none' });
  const files = (uid: string): Buffer[] => study.files.filter((f) => f.seriesInstanceUID === uid).map((f) => Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength));
  const truth = study.groundTruth;
  return {
    arterial: await assembleVolumeFromFiles(files(truth.phases.arterial.seriesInstanceUID)),
    venous: await assembleVolumeFromFiles(files(truth.phases.venous.seriesInstanceUID)),
  };
}

const mb = (bytes: number): number => bytes / 2 ** 20;

function emptyTimings(): Timings {
  return { totals: [], onnx: [], stages: {} };
}

/** One timed analysis, added to `into`. */
async function timedAnalysis(models: ModelSet, volumes: Volumes, into: Timings): Promise<void> {
  const started = performance.now();
  const detail = await analyseStudy(models, volumes);
  into.totals.push(performance.now() - started);
  into.onnx.push(detail.onnxMs);
  for (const [stage, ms] of Object.entries(detail.analysis.timingsMs)) {
    if (stage === 'total' || stage === 'onnx' || ms === undefined) continue;
    (into.stages[stage] ??= []).push(ms);
  }
}

/**
 * The single-stage set beside a cascade: the kept 0.4.0 localiser with the configured classifier
 * (already loaded), or a note saying why there is none.
 */
async function singleStageSet(models: ModelSet, config: ModelsConfig): Promise<{ set?: ModelSet; localizer?: LoadedLocalizer; note: string }> {
  if (!models.localizer.localizer.roi) return { note: '' };
  if (!existsSync(path.join(SINGLE_STAGE_DIR, `${SINGLE_STAGE_LOCALIZER}.json`))) {
    return { note: `no single-stage baseline: ${path.relative(PROJECT_ROOT, SINGLE_STAGE_DIR)}/${SINGLE_STAGE_LOCALIZER}.json is absent (keep the 0.4.0 localiser there)` };
  }
  const localizer = await loadLocalizer(SINGLE_STAGE_DIR, SINGLE_STAGE_LOCALIZER, config);
  const { identity } = localizer;
  return { set: { localizer, classifier: models.classifier }, localizer, note: `single-stage baseline: ${identity.name} ${identity.version} from ${path.relative(PROJECT_ROOT, SINGLE_STAGE_DIR)}` };
}

/** Warm-up, then TIMED_RUNS analyses per set, the sets interleaved run by run. */
async function timeSets(sets: ModelSet[], volumes: Volumes): Promise<Timings[]> {
  for (const set of sets) await analyseStudy(set, volumes);
  const timings = sets.map(emptyTimings);
  for (let r = 0; r < TIMED_RUNS; r++) {
    // Alternate which set goes first, so neither always follows the other's allocations.
    const order = r % 2 === 0 ? sets.map((_, i) => i) : sets.map((_, i) => sets.length - 1 - i);
    for (const i of order) await timedAnalysis(sets[i], volumes, timings[i]);
  }
  return timings;
}

async function rssFigure(models: ModelSet, volumes: Volumes, note: string, context: BenchContext): Promise<Figure> {
  context.log(`${CONSECUTIVE_JOBS} consecutive analyses with the same models`);
  const rssBefore = process.memoryUsage().rss;
  const rssSamples: number[] = [];
  for (let job = 0; job < CONSECUTIVE_JOBS; job++) {
    await analyseStudy(models, volumes);
    rssSamples.push(mb(process.memoryUsage().rss));
  }
  return {
    id: 'analysis_rss_after_50_mb',
    name: `RSS after ${CONSECUTIVE_JOBS} consecutive analyses${note}`,
    value: mb(process.memoryUsage().rss),
    unit: 'MB',
    baseline: { name: 'RSS before them', value: mb(rssBefore) },
    goal: 'flat (ratio about 1)',
    samples: rssSamples,
  };
}

/** The analysis and stage figures of the configured set; with a single-stage baseline, the cascade's comparison too. */
function analysisFigures(configured: Timings, single: Timings | undefined, note: string, cascade: boolean): Figure[] {
  const what = cascade ? 'two-stage localise (pancreas + tumour)' : 'localise';
  const figures: Figure[] = [
    {
      id: 'analysis_ms',
      name: `${what} + crop + classify + key slices, 2 x 100 x 512 x 512${note}`,
      value: median(configured.totals),
      unit: 'ms',
      baseline: { name: 'onnxruntime alone, same runs', value: median(configured.onnx) },
      goal: '<= 1000 ms',
      samples: configured.totals,
    },
  ];
  const singleName = 'single-stage 0.4.0 + same classifier, same study';
  if (single) {
    figures.push({
      id: 'cascade_analysis_ms',
      name: `two-stage analysis (as analysis_ms) against the single-stage set${note}`,
      value: median(configured.totals),
      unit: 'ms',
      baseline: { name: singleName, value: median(single.totals) },
      goal: CASCADE_GOAL,
      samples: configured.totals,
    });
  }
  for (const [stage, values] of Object.entries(configured.stages)) {
    const baseline = single?.stages[stage];
    figures.push({
      id: `analysis_${stage}_ms`,
      name: `stage ${stage}${cascade && (stage === 'pancreas' || stage === 'tumour') ? ' (cascade, inside localise)' : ''}${note}`,
      value: median(values),
      unit: 'ms',
      ...(baseline ? { baseline: { name: singleName, value: median(baseline) } } : {}),
      samples: values,
    });
  }
  return figures;
}

export const inferenceBench: BenchModule = {
  name: 'inference',
  async run(context: BenchContext): Promise<Figure[]> {
    const { config, note } = modelsConfig();
    context.log(`models from ${config.dir}, ${config.intraOpThreads} intra-op threads${note}`);
    context.log('generating and assembling a 2 x 100-slice 512 x 512 synthetic study');
    const volumes = await studyVolumes(20_240_601);
    const loadStarted = performance.now();
    const models = await loadModelSet(config);
    const loadMs = performance.now() - loadStarted;
    let single: Awaited<ReturnType<typeof singleStageSet>> = { note: '' };
    try {
      const cascade = models.localizer.localizer.roi !== undefined;
      single = await singleStageSet(models, config);
      if (single.note) context.log(single.note);
      context.log(`models loaded in ${loadMs.toFixed(0)} ms; warming up`);
      const [configured, baseline] = await timeSets(single.set ? [models, single.set] : [models], volumes);
      const what = cascade ? 'pancreas + localiser + classifier' : 'classifier + localiser';
      return [
        { id: 'model_load_ms', name: `load ${what} (manifests, sha256, sessions)${note}`, value: loadMs, unit: 'ms', goal: '< 1000 ms' },
        ...analysisFigures(configured, baseline, note, cascade),
        await rssFigure(models, volumes, note, context),
      ];
    } finally {
      await releaseModels({ ...models, singleStageLocalizer: single.localizer });
    }
  },
};
