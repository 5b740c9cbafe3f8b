/**
 * One study's analysis, from two HU volumes to a TsrAnalysis:
 *   1. localise: the localiser on the venous volume's grid -> peak confidence (below the
 *      manifest's minConfidence the study is refused: no guess goes into the PACS), centre and
 *      diameter of the tumour; with a cascade localiser (preprocessing.localizer.roi), the
 *      pancreas-first two stages of cascadeLocalisation.ts instead (steps 1-2 both);
 *   2. the arterial centre follows in patient coordinates (both series must share one
 *      FrameOfReferenceUID, PS3.3 C.7.4.1), refined by the localiser on the arterial volume
 *      within a small window around it (breathing moves organs a few mm between phases);
 *   3. crop both phases with the shared preprocessing (the dataset builder's code);
 *   4. classify: P(high TSR), the class at the manifest's threshold, saliency per phase;
 *   5. per phase, the key slice (nearest the centre along the normal), the saliency and the
 *      tumour outline on its pixel grid.
 * The models are loaded once by the caller (models.ts) and reused for every study.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import { patientToIndex, type Vec3 } from '../study/geometry';
import type { HuVolume } from '../study/volume';
import { circleOutline, cropMapOnSlice, keySliceIndex, probabilityOnSlice, regionAround, sliceHu, traceBoundary } from './keySlice';
import { DEFAULT_ARTERIAL_SEARCH_RADIUS_MM, type AnalysisInput, type AnalysisOptions, type PhaseLocalisation } from './analysisTypes';
import { localiseCascade, type CascadeLocalisation } from './cascadeLocalisation';
import type { Phase } from './manifest';
import { modelSetIdentities, type ModelSet } from './modelSet';
import { cropPlane, extractCrop, extractLocalizerInputs } from './preprocessing';
import type { PhaseFinding, TsrAnalysis } from './result';
import { runClassifier, runLocalizer } from './sessions';
import { findTumour, type ProbabilityGrid, type TumourFinding } from './tumourFinding';

export type { AnalysisInput, AnalysisOptions, CascadeTrace, PhaseLocalisation } from './analysisTypes';

export interface AnalysisDetail {
  analysis: TsrAnalysis;
  /** The classifier's inputs, [C, H, W] per phase. */
  crops: Record<Phase, Float32Array>;
  localisation: Record<Phase, PhaseLocalisation>;
  /** ONNX time alone, summed over all runs. */
  onnxMs: number;
}

/**
 * A localiser "tumour" larger than this is not a tumour finding but a diffuse response: refused
 * rather than reported. PDAC measures 13-120 mm (PHANTOM.md, from the literature).
 */
export const MAX_TUMOUR_DIAMETER_MM = 150;

function checkPair(input: AnalysisInput): void {
  const { arterial, venous } = input;
  if (arterial.studyInstanceUID !== venous.studyInstanceUID) {
    throw new AnalysisRefusedError('series-from-different-studies', 'the arterial and venous series belong to different studies');
  }
  if (!arterial.frameOfReferenceUID || arterial.frameOfReferenceUID !== venous.frameOfReferenceUID) {
    throw new AnalysisRefusedError(
      'frame-of-reference-mismatch',
      'the arterial and venous series do not share one FrameOfReferenceUID, so the tumour position cannot be carried from one phase to the other',
      { arterial: arterial.frameOfReferenceUID, venous: venous.frameOfReferenceUID },
    );
  }
}

/** Whether a patient point lies within the volume's voxel box (within half a voxel of it). */
function insideVolume(volume: HuVolume, p: Vec3): boolean {
  const idx = patientToIndex(volume.geometry, p);
  return idx.every((x, a) => x >= -0.5 && x <= volume.geometry.dims[a] - 0.5);
}

function phaseFinding(
  phase: Phase,
  volume: HuVolume,
  sopClassUID: string,
  centreMm: Vec3,
  diameterMm: number,
  grid: ProbabilityGrid,
  level: number,
  saliency: Float32Array,
  plane: ReturnType<typeof cropPlane>,
): PhaseFinding {
  const g = volume.geometry;
  const k = keySliceIndex(g, centreMm);
  const idx = patientToIndex(g, centreMm);
  const centrePixel: [number, number] = [idx[0], idx[1]];
  const probability = probabilityOnSlice(g, k, grid, centreMm, Math.max(20, 1.5 * diameterMm + 10));
  const region = regionAround(probability, level, centrePixel, 10 / Math.min(g.spacing[0], g.spacing[1]));
  const outline = region
    ? traceBoundary(region, g.dims[0], g.dims[1])
    : circleOutline(centrePixel, [diameterMm / 2 / g.spacing[0], diameterMm / 2 / g.spacing[1]]);
  return {
    phase,
    seriesInstanceUID: volume.seriesInstanceUID,
    keySopInstanceUID: volume.sopInstanceUIDs[k],
    keySliceIndex: k,
    tumourCentreMm: centreMm,
    tumourCentrePixel: centrePixel,
    outlinePixels: outline,
    pixelSpacingMm: [g.spacing[1], g.spacing[0]],
    keySliceHu: sliceHu(volume, k),
    saliency: cropMapOnSlice(g, k, plane, saliency),
    sourceSopInstanceUIDs: volume.sopInstanceUIDs.slice(),
    sopClassUID,
    volumeGeometry: g,
  };
}

/** The guards both localisers share: a diffuse response, or a tumour outside the arterial series. */
function checkFinding(venous: TumourFinding, input: AnalysisInput): void {
  if (venous.diameterMm > MAX_TUMOUR_DIAMETER_MM) {
    throw new AnalysisRefusedError(
      'tumour-not-localised',
      `the localiser's response is diffuse (a region of ${venous.diameterMm.toFixed(0)} mm, more than ${MAX_TUMOUR_DIAMETER_MM} mm); no result is written`,
      { confidence: venous.confidence, diameterMm: venous.diameterMm },
    );
  }
  if (!insideVolume(input.arterial, venous.centreMm)) {
    throw new AnalysisRefusedError('tumour-outside-arterial-volume', 'the tumour found in the venous series lies outside the arterial series', {
      centreMm: venous.centreMm,
    });
  }
}

export interface Localised {
  localisation: Record<Phase, PhaseLocalisation>;
  venous: TumourFinding;
  onnxMs: number;
  /** Present with a cascade localiser. */
  cascade?: Omit<CascadeLocalisation, 'venous' | 'localisation' | 'onnxMs'>;
}

/** Localises the tumour in both phases (steps 1-2). Throws AnalysisRefusedError when it cannot. */
export async function localiseTumour(models: Pick<ModelSet, 'localizer' | 'pancreas'>, input: AnalysisInput, options: AnalysisOptions = {}): Promise<Localised> {
  checkPair(input);
  if (models.localizer.localizer.roi) {
    const { venous, localisation, onnxMs, ...cascade } = await localiseCascade(models, input, options);
    checkFinding(venous, input);
    if (localisation.arterial.refined && !insideVolume(input.arterial, localisation.arterial.centreMm)) {
      localisation.arterial = { grid: localisation.venous.grid, centreMm: venous.centreMm, refined: false };
    }
    return { venous, localisation, onnxMs, cascade };
  }
  const spec = models.localizer.localizer;
  const run = await runLocalizer(models.localizer, extractLocalizerInputs(input, spec));
  const venous = findTumour(run.grids.venous);
  if (!venous || venous.confidence < spec.minConfidence) {
    throw new AnalysisRefusedError(
      'tumour-not-found',
      `the localiser found no tumour with confidence (peak probability ${(venous?.confidence ?? 0).toFixed(3)} < ${spec.minConfidence}); no result is written`,
      { confidence: venous?.confidence ?? 0, minConfidence: spec.minConfidence },
    );
  }
  checkFinding(venous, input);
  const radiusMm = options.arterialSearchRadiusMm ?? DEFAULT_ARTERIAL_SEARCH_RADIUS_MM;
  const local = findTumour(run.grids.arterial, { centreMm: venous.centreMm, radiusMm });
  const refined = local !== undefined && local.confidence >= spec.minConfidence && insideVolume(input.arterial, local.centreMm);
  return {
    venous,
    onnxMs: run.onnxMs,
    localisation: {
      venous: { finding: venous, grid: run.grids.venous, centreMm: venous.centreMm, refined: false },
      arterial: refined
        ? { finding: local, grid: run.grids.arterial, centreMm: local.centreMm, refined: true }
        : { grid: run.grids.venous, centreMm: venous.centreMm, refined: false },
    },
  };
}

/** The whole analysis of one study (steps 1-5). */
export async function analyseStudy(models: ModelSet, input: AnalysisInput, options: AnalysisOptions = {}): Promise<AnalysisDetail> {
  const t0 = performance.now();
  const { localisation, venous, onnxMs: localiseOnnxMs, cascade } = await localiseTumour(models, input, options);
  const t1 = performance.now();
  const spec = models.classifier.crop;
  const crops: Record<Phase, Float32Array> = {
    arterial: extractCrop(input.arterial, localisation.arterial.centreMm, spec),
    venous: extractCrop(input.venous, localisation.venous.centreMm, spec),
  };
  const t2 = performance.now();
  const classified = await runClassifier(models.classifier, crops);
  const t3 = performance.now();
  const finding = (phase: Phase): PhaseFinding => {
    const loc = localisation[phase];
    const level = loc.finding?.level ?? venous.level;
    const saliency = classified.saliency[phase] ?? new Float32Array(spec.sizePx * spec.sizePx);
    return phaseFinding(phase, input[phase], input.sopClassUIDs?.[phase] ?? SOP_CLASS.ctImageStorage, loc.centreMm, venous.diameterMm, loc.grid, level, saliency, cropPlane(loc.centreMm, spec));
  };
  const arterial = finding('arterial');
  const venousFinding = finding('venous');
  const t4 = performance.now();
  const classifier = models.classifier;
  const analysis: TsrAnalysis = {
    studyInstanceUID: input.venous.studyInstanceUID,
    probabilityHigh: classified.probabilityHigh,
    label: classified.probabilityHigh >= classifier.threshold ? 'high' : 'low',
    threshold: classifier.threshold,
    classifier: classifier.identity,
    models: modelSetIdentities(models),
    tumour: { centreMm: venous.centreMm, diameterMm: venous.diameterMm, confidence: venous.confidence, ...(cascade ? { confidenceCalibrated: cascade.confidenceCalibrated } : {}) },
    arterial,
    venous: venousFinding,
    tumourLocalisation: { grid: localisation.venous.grid, peakIndex: venous.peakIndex, level: venous.level },
    ...(cascade ? { pancreasLocalisation: cascade.pancreas } : {}),
    timingsMs: {
      localise: t1 - t0,
      ...(cascade ? { pancreas: cascade.stageMs.pancreas, tumour: cascade.stageMs.tumour } : {}),
      crop: t2 - t1,
      classify: t3 - t2,
      keySlices: t4 - t3,
      total: t4 - t0,
      onnx: localiseOnnxMs + classified.onnxMs,
    },
  };
  return { analysis, crops, localisation, onnxMs: localiseOnnxMs + classified.onnxMs };
}
