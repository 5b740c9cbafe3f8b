/**
 * One held-out synthetic study through the node's own path, for `tsr-node evaluate`:
 *   - prepareSeed (a worker thread): generate it in memory with the cohort's centre profile and
 *     assemble both phase volumes from its Part-10 bytes, exactly as the node does after WADO-RS;
 *   - evaluatePrepared (the main thread, which holds the onnxruntime sessions: onnxruntime-node is
 *     not safe in several worker threads at once): the node's analysis (the localiser finds the
 *     tumour, the fused classifier classifies the crops), the single-phase baselines on the same
 *     crops, and every classifier again on crops at the ground-truth centres (what localisation
 *     costs).
 */
import { AnalysisRefusedError } from '../errors';
import { analyseStudy, type CascadeTrace } from '../inference/analyse';
import type { Phase } from '../inference/manifest';
import { loadClassifier, loadLocalizer, loadPancreas, releaseModels, type LoadedClassifier, type LoadedLocalizer, type LoadedPancreas, type ModelRuntimeOptions } from '../inference/models';
import { checkCascadePair } from '../inference/modelSet';
import { extractCrop } from '../inference/preprocessing';
import { runClassifier } from '../inference/sessions';
import type { Vec3 } from '../study/geometry';
import { assembleVolumeFromFiles } from '../study/volumeAssembly';
import { truthFacts, truthMask } from '../dataset/syntheticTruth';
import { cascadeCandidate, cascadeFigures, pointGrid, type CascadeCaseFigures } from './cascadeEvaluation';
import { DEFAULT_CENTRE_PROFILE, generateStudy, type SyntheticGroundTruth, type SyntheticStudy, type SyntheticStudyOptions } from '../synthetic';
import type { HuVolume } from '../study/volume';

export type ModelRole = 'fused' | 'arterial' | 'venous';
export const MODEL_ROLES: readonly ModelRole[] = ['fused', 'arterial', 'venous'];

export interface EvaluationModelNames {
  dir: string;
  fused: string;
  arterial: string;
  venous: string;
  localizer: string;
  /** The pancreas model, loaded only when the localiser is a cascade's second stage (default tsr-pancreas). */
  pancreas?: string;
}

export interface EvaluationCase {
  seed: number;
  /** The centre profile the study was generated with (src/synthetic/profiles/). */
  profile: string;
  studyInstanceUID: string;
  label: 'low' | 'high';
  /** The generated tumour: nominal greatest diameter (mm) and region of the pancreas. */
  tumour: { diameterMm: number; region: string };
  /** The generator's oracle P(high) from the noise-free parameters. */
  oracle: Record<ModelRole, number>;
  /** False when the node refused the study (e.g. tumour-not-found); then refusal is set (and, with a cascade, what its stages saw). */
  analysed: boolean;
  refusal?: { code: string; message: string };
  /** The refusal's code again (refusal.code), as the cascade's calibration reads it. */
  refusalCode?: string;
  /** P(high) of each model on the crops at the localiser's centres (the node's path). */
  probabilities?: Record<ModelRole, number>;
  /** P(high) of each model on crops at the ground-truth centres. */
  atTrueCentre?: Record<ModelRole, number>;
  localisation?: {
    confidence: number;
    /** The found centre lies inside the ground-truth tumour mask of that phase. */
    venousHit: boolean;
    arterialHit: boolean;
    venousErrorMm: number;
    arterialErrorMm: number;
    arterialRefined: boolean;
    diameterMm: number;
    /**
     * Cascade only, whenever stage 2 gave a candidate, also when the study was refused (then the
     * hits above are false: no result was given): the six localisation features and whether the
     * candidate's venous centre lies inside the true tumour.
     */
    features?: Record<string, number>;
    insideTumour?: boolean;
  };
  /** Cascade only: pancreas Dice (coarse grid) and tumour Dice (ROI grid); see cascadeEvaluation.ts. */
  cascade?: CascadeCaseFigures;
  /** Node analysis time (localise + crop + classify + key slices), ms. */
  analysisMs?: number;
  /** The venous volume the node assembled: columns, slices and slice spacing (mm). */
  venousVolume?: { columns: number; slices: number; sliceSpacingMm: number };
}

export interface EvaluationModels {
  fused: LoadedClassifier;
  arterial: LoadedClassifier;
  venous: LoadedClassifier;
  localizer: LoadedLocalizer;
  /** Present exactly when the localiser is a cascade's second stage. */
  pancreas?: LoadedPancreas;
}

export async function loadEvaluationModels(names: EvaluationModelNames, runtime: ModelRuntimeOptions): Promise<EvaluationModels> {
  const fused = await loadClassifier(names.dir, names.fused, runtime);
  const arterial = await loadClassifier(names.dir, names.arterial, runtime);
  const venous = await loadClassifier(names.dir, names.venous, runtime);
  const localizer = await loadLocalizer(names.dir, names.localizer, runtime);
  if (!localizer.localizer.roi) return { fused, arterial, venous, localizer };
  let pancreas: LoadedPancreas | undefined;
  try {
    pancreas = await loadPancreas(names.dir, names.pancreas ?? 'tsr-pancreas', runtime);
    checkCascadePair(localizer, pancreas);
  } catch (err) {
    await releaseModels({ fused, arterial, venous, localizer, pancreas });
    throw err;
  }
  return { fused, arterial, venous, localizer, pancreas };
}

function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

async function classifyAll(m: EvaluationModels, volumes: Record<Phase, Parameters<typeof extractCrop>[0]>, centres: Record<Phase, Vec3>, fusedCrops?: Record<Phase, Float32Array>): Promise<Record<ModelRole, number>> {
  const cache = new Map<string, Float32Array>();
  const cropFor = (model: LoadedClassifier, phase: Phase): Float32Array => {
    const key = `${phase}/${JSON.stringify(model.crop)}`;
    let crop = cache.get(key);
    if (!crop) {
      crop = fusedCrops && JSON.stringify(model.crop) === JSON.stringify(m.fused.crop) ? fusedCrops[phase] : extractCrop(volumes[phase], centres[phase], model.crop);
      cache.set(key, crop);
    }
    return crop;
  };
  const run = async (model: LoadedClassifier): Promise<number> => {
    const crops: Partial<Record<Phase, Float32Array>> = {};
    for (const phase of model.phases) crops[phase] = cropFor(model, phase);
    return (await runClassifier(model, crops)).probabilityHigh;
  };
  return { fused: await run(m.fused), arterial: await run(m.arterial), venous: await run(m.venous) };
}

export interface EvaluationSettings {
  columns?: number;
  slices?: number;
  /** Centre profile of the generated studies; the generator's default (baseline) when absent. */
  profile?: string;
}

/** A generated study, ready for the models: its ground truth and both phase volumes. */
export interface PreparedStudy {
  seed: number;
  profile: string;
  groundTruth: SyntheticGroundTruth;
  /** The generateStudy options it was made with (the true pancreas mask is re-planned from them). */
  options: SyntheticStudyOptions;
  volumes: Record<Phase, HuVolume>;
}

/**
 * One study in memory with the profile's settings, without the extra series (non-contrast,
 * delayed, localizer, thick recons): the phase series' pixels do not depend on them.
 */
function evaluationStudyOptions(seed: number, settings: EvaluationSettings): SyntheticStudyOptions {
  const options: SyntheticStudyOptions = { seed, extras: 'none', profile: settings.profile ?? DEFAULT_CENTRE_PROFILE };
  if (settings.columns !== undefined) options.columns = settings.columns;
  if (settings.slices !== undefined) options.slices = settings.slices;
  return options;
}

/** Worker side: generate and assemble. */
export async function prepareSeed(seed: number, settings: EvaluationSettings): Promise<PreparedStudy> {
  const options = evaluationStudyOptions(seed, settings);
  const study: SyntheticStudy = generateStudy(options);
  const facts = truthFacts(study.groundTruth);
  const bytesOf = (phase: Phase): Buffer[] =>
    study.files.filter((f) => f.seriesInstanceUID === facts.phases[phase].seriesInstanceUID).map((f) => Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength));
  return {
    seed,
    profile: settings.profile ?? DEFAULT_CENTRE_PROFILE,
    groundTruth: study.groundTruth,
    options,
    volumes: { arterial: await assembleVolumeFromFiles(bytesOf('arterial')), venous: await assembleVolumeFromFiles(bytesOf('venous')) },
  };
}

/** The buffers to move (not copy) from the worker to the main thread. */
export function preparedTransferList(p: PreparedStudy): ArrayBuffer[] {
  return [p.volumes.arterial.data.buffer as ArrayBuffer, p.volumes.venous.data.buffer as ArrayBuffer];
}

/** Main-thread side: the node's analysis and the baselines. */
export async function evaluatePrepared(m: EvaluationModels, prepared: PreparedStudy): Promise<EvaluationCase> {
  const facts = truthFacts(prepared.groundTruth);
  const volumes = prepared.volumes;
  const venous = volumes.venous.geometry;
  const base: EvaluationCase = {
    seed: prepared.seed,
    profile: prepared.profile,
    studyInstanceUID: facts.studyInstanceUID,
    label: facts.label,
    tumour: facts.tumour,
    oracle: facts.oracle ?? { fused: Number.NaN, arterial: Number.NaN, venous: Number.NaN },
    analysed: false,
    venousVolume: { columns: venous.dims[0], slices: venous.dims[2], sliceSpacingMm: venous.spacing[2] },
  };
  const trueCentres = { arterial: facts.phases.arterial.centreMm, venous: facts.phases.venous.centreMm };
  const atTrueCentre = await classifyAll(m, volumes, trueCentres);
  let trace: CascadeTrace | undefined;
  let detail;
  try {
    detail = await analyseStudy({ classifier: m.fused, localizer: m.localizer, ...(m.pancreas ? { pancreas: m.pancreas } : {}) }, volumes, { onCascade: (t) => (trace = t) });
  } catch (err) {
    if (!(err instanceof AnalysisRefusedError)) throw err;
    const refused: EvaluationCase = { ...base, atTrueCentre, refusal: { code: err.code, message: err.message }, refusalCode: err.code };
    return { ...refused, ...refusedCascade(trace, prepared, trueCentres) };
  }
  const found = { arterial: detail.localisation.arterial.centreMm, venous: detail.localisation.venous.centreMm };
  const probabilities = await classifyAll(m, volumes, found, detail.crops);
  const hit = (phase: Phase): boolean => truthMask(prepared.groundTruth, phase, pointGrid(found[phase]))[0] === 1;
  const candidate = cascadeCandidate(trace, prepared.groundTruth);
  const cascade = cascadeFigures(trace, prepared);
  return {
    ...base,
    analysed: true,
    probabilities,
    atTrueCentre,
    localisation: {
      confidence: detail.analysis.tumour.confidence,
      venousHit: hit('venous'),
      arterialHit: hit('arterial'),
      venousErrorMm: distance(found.venous, trueCentres.venous),
      arterialErrorMm: distance(found.arterial, trueCentres.arterial),
      arterialRefined: detail.localisation.arterial.refined,
      diameterMm: detail.analysis.tumour.diameterMm,
      ...(candidate ? { features: candidate.features, insideTumour: candidate.insideTumour } : {}),
    },
    ...(cascade ? { cascade } : {}),
    analysisMs: detail.analysis.timingsMs.total,
  };
}

/** A refused study's cascade record: the candidate stage 2 chose (no result was given, so no hits) and the Dice figures. */
function refusedCascade(trace: CascadeTrace | undefined, prepared: PreparedStudy, trueCentres: Record<Phase, Vec3>): Pick<EvaluationCase, 'localisation' | 'cascade'> {
  const out: Pick<EvaluationCase, 'localisation' | 'cascade'> = {};
  const cascade = cascadeFigures(trace, prepared);
  if (cascade) out.cascade = cascade;
  const candidate = cascadeCandidate(trace, prepared.groundTruth);
  if (candidate) {
    out.localisation = {
      confidence: candidate.confidence,
      venousHit: false,
      arterialHit: false,
      venousErrorMm: distance(candidate.centreMm, trueCentres.venous),
      arterialErrorMm: distance(candidate.arterialCentreMm, trueCentres.arterial),
      arterialRefined: candidate.arterialMatched,
      diameterMm: candidate.diameterMm,
      features: candidate.features,
      insideTumour: candidate.insideTumour,
    };
  }
  return out;
}
