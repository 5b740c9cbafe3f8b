/**
 * Inference benchmark (issue 5): on a synthetic 2 x 100-slice 512 x 512 study (generated and
 * assembled from its Part-10 bytes before timing),
 * - model load time (manifests, sha256, sessions; the first load in the process);
 * - localise + crop + classify + key slices (the node's analyseStudy), beside the raw onnxruntime
 *   time of the same runs (the baseline: what the models alone cost);
 * - RSS before and after 50 consecutive analyses with the same loaded models (no reload per job).
 *
 * Uses the shipped models (config models.dir, default models/); when they are not there yet, the
 * tiny test fixtures, and says so in every figure's name.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { analyseStudy } from '../src/inference/analyse';
import { releaseModels } from '../src/inference/models';
import { loadModelSet, type ModelsConfig } from '../src/inference/modelSet';
import { PROJECT_ROOT } from '../src/paths';
import { generateStudy } from '../src/synthetic';
import { assembleVolumeFromFiles } from '../src/study/volumeAssembly';
import type { HuVolume } from '../src/study/volume';
import { median, type BenchContext, type BenchModule, type Figure } from './benchModule';

const TIMED_RUNS = 9;
const CONSECUTIVE_JOBS = 50;

function modelsConfig(): { config: ModelsConfig; note: string } {
  const config = loadConfig().models;
  const dir = path.resolve(PROJECT_ROOT, config.dir);
  if (existsSync(path.join(dir, `${config.classifier}.json`)) && existsSync(path.join(dir, `${config.localizer}.json`))) {
    return { config: { ...config, dir }, note: '' };
  }
  return { config: { ...config, dir: path.join(PROJECT_ROOT, 'test/fixtures/tiny-models') }, note: ' [tiny test fixtures: models/ not trained yet]' };
}

async function studyVolumes(seed: number): Promise<{ arterial: HuVolume; venous: HuVolume }> {
  const study = generateStudy({ seed, extras: 'none' });
  const files = (uid: string): Buffer[] => study.files.filter((f) => f.seriesInstanceUID === uid).map((f) => Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength));
  const truth = study.groundTruth;
  return {
    arterial: await assembleVolumeFromFiles(files(truth.phases.arterial.seriesInstanceUID)),
    venous: await assembleVolumeFromFiles(files(truth.phases.venous.seriesInstanceUID)),
  };
}

const mb = (bytes: number): number => bytes / 2 ** 20;

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
    try {
      context.log(`models loaded in ${loadMs.toFixed(0)} ms; warming up`);
      await analyseStudy(models, volumes);
      const totals: number[] = [];
      const onnx: number[] = [];
      const stages: Record<string, number[]> = { localise: [], crop: [], classify: [], keySlices: [] };
      for (let r = 0; r < TIMED_RUNS; r++) {
        const started = performance.now();
        const detail = await analyseStudy(models, volumes);
        totals.push(performance.now() - started);
        onnx.push(detail.onnxMs);
        for (const stage of Object.keys(stages)) stages[stage].push(detail.analysis.timingsMs[stage]);
      }
      context.log(`${CONSECUTIVE_JOBS} consecutive analyses with the same models`);
      const rssBefore = process.memoryUsage().rss;
      const rssSamples: number[] = [];
      for (let job = 0; job < CONSECUTIVE_JOBS; job++) {
        await analyseStudy(models, volumes);
        rssSamples.push(mb(process.memoryUsage().rss));
      }
      const rssAfter = process.memoryUsage().rss;
      const figures: Figure[] = [
        { id: 'model_load_ms', name: `load classifier + localiser (manifests, sha256, sessions)${note}`, value: loadMs, unit: 'ms', goal: '< 1000 ms' },
        {
          id: 'analysis_ms',
          name: `localise + crop + classify + key slices, 2 x 100 x 512 x 512${note}`,
          value: median(totals),
          unit: 'ms',
          baseline: { name: 'onnxruntime alone, same runs', value: median(onnx) },
          goal: '<= 1000 ms',
          samples: totals,
        },
      ];
      for (const [stage, values] of Object.entries(stages)) {
        figures.push({ id: `analysis_${stage}_ms`, name: `stage ${stage}${note}`, value: median(values), unit: 'ms', samples: values });
      }
      figures.push({
        id: 'analysis_rss_after_50_mb',
        name: `RSS after ${CONSECUTIVE_JOBS} consecutive analyses${note}`,
        value: mb(rssAfter),
        unit: 'MB',
        baseline: { name: 'RSS before them', value: mb(rssBefore) },
        goal: 'flat (ratio about 1)',
        samples: rssSamples,
      });
      return figures;
    } finally {
      await releaseModels(models);
    }
  },
};
