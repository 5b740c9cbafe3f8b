/**
 * The pancreas-first, coarse-to-fine localiser (issue 20; docs/model-card.md, "Localisation: two
 * stages"):
 *   1. stage 1 (models.pancreas) on the venous volume's coarse whole-volume grid -> P(pancreas)
 *      -> the mask's largest component (below minVolumeMl: pancreas-not-found) -> the ROI centre;
 *   2. stage 2 (models.localizer with preprocessing.localizer.roi) on the 2 mm ROI grid centred
 *      there, both phases sampled on it, averaged over the shifts -> tumour maps and pancreas;
 *   3. the decision (roiFinding.ts): the candidate in or on the pancreas, the arterial centre, the
 *      features and the calibrated confidence, or a refusal (tumour-not-found,
 *      finding-outside-pancreas, phases-disagree).
 * A refusal throws AnalysisRefusedError with the features in its details; no guess goes into the PACS.
 */
import { AnalysisRefusedError } from '../errors';
import type { Vec3 } from '../study/geometry';
import { DEFAULT_ARTERIAL_SEARCH_RADIUS_MM, type AnalysisInput, type AnalysisOptions, type CascadeTrace, type PhaseLocalisation } from './analysisTypes';
import type { Phase } from './manifest';
import type { ModelSet } from './modelSet';
import { extractLocalizerInput, extractLocalizerInputs, volumeCentre } from './preprocessing';
import type { PancreasLocalisation } from './result';
import { decideCascade, pancreasFromProbability, roiPancreasMask, type CascadeDecision } from './roiFinding';
import { runCascadeLocalizer, runPancreas } from './sessions';
import type { TumourFinding } from './tumourFinding';

export interface CascadeLocalisation {
  venous: TumourFinding;
  localisation: Record<Phase, PhaseLocalisation>;
  pancreas: PancreasLocalisation;
  /** Whether the confidence comes from the manifest's calibration (else it is the candidate's peak). */
  confidenceCalibrated: boolean;
  onnxMs: number;
  /** Wall time of each stage (preprocessing, model and decision), ms. */
  stageMs: { pancreas: number; tumour: number };
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/** What a refusal carries in its details: small numbers only (they go into logs and job records). */
function refusalDetails(decision: CascadeDecision): Record<string, unknown> {
  const features = decision.features ? Object.fromEntries(Object.entries(decision.features).map(([k, v]) => [k, round(v)])) : undefined;
  return {
    candidates: decision.candidates,
    ...(decision.confidence !== undefined ? { confidence: round(decision.confidence) } : {}),
    ...(features ? { features } : {}),
    ...(decision.candidate ? { centreMm: decision.candidate.centreMm.map((x) => round(x, 2)) } : {}),
  };
}

/** Stage 1: the pancreas on the coarse grid, or pancreas-not-found. */
async function findPancreas(models: Pick<ModelSet, 'pancreas'>, input: AnalysisInput, trace: CascadeTrace, report: () => void): Promise<{ pancreas: PancreasLocalisation; onnxMs: number }> {
  const model = models.pancreas;
  if (!model) throw new Error('the cascade localiser needs the pancreas model (loadModelSet loads it)');
  const spec = model.pancreas;
  const stage1 = await runPancreas(model, extractLocalizerInput(input.venous, spec, volumeCentre(input.venous.geometry)));
  const found = pancreasFromProbability(stage1.grid, spec.threshold);
  trace.pancreas = found ? { grid: stage1.grid, found } : { grid: stage1.grid };
  if (!found || found.volumeMl < spec.minVolumeMl) {
    report();
    const what = found ? `its largest part holds ${found.volumeMl.toFixed(1)} ml, less than ${spec.minVolumeMl} ml` : `no voxel reaches P(pancreas) ${spec.threshold}`;
    throw new AnalysisRefusedError('pancreas-not-found', `the pancreas model found no pancreas (${what}), so there is no region to search for the tumour; no result is written`, {
      volumeMl: round(found?.volumeMl ?? 0, 2),
      minVolumeMl: spec.minVolumeMl,
    });
  }
  return { pancreas: { grid: stage1.grid, level: spec.threshold, mask: found.mask, volumeMl: found.volumeMl, roiCentreMm: found.roiCentreMm }, onnxMs: stage1.onnxMs };
}

/** Both stages and the decision. Throws AnalysisRefusedError when the study is refused. */
export async function localiseCascade(models: Pick<ModelSet, 'pancreas' | 'localizer'>, input: AnalysisInput, options: AnalysisOptions = {}): Promise<CascadeLocalisation> {
  const trace: CascadeTrace = {};
  const report = (): void => options.onCascade?.(trace);
  const t0 = performance.now();
  const { pancreas, onnxMs: pancreasOnnxMs } = await findPancreas(models, input, trace, report);
  const t1 = performance.now();
  const spec = models.localizer.localizer;
  const roi = spec.roi;
  if (!roi) throw new Error('localiseCascade: the localiser has no preprocessing.localizer.roi');
  const stage2 = await runCascadeLocalizer(models.localizer, extractLocalizerInputs(input, spec, pancreas.roiCentreMm));
  const pancreasMask = roiPancreasMask(stage2.pancreas, { mask: pancreas.mask, geometry: pancreas.grid.geometry });
  const decision = decideCascade({
    venous: stage2.grids.venous,
    arterial: stage2.grids.arterial,
    pancreasMask,
    venousByShift: stage2.venousByShift,
    roi,
    ...(spec.confidence ? { calibration: spec.confidence } : {}),
    minConfidence: spec.minConfidence,
    arterialSearchRadiusMm: options.arterialSearchRadiusMm ?? DEFAULT_ARTERIAL_SEARCH_RADIUS_MM,
  });
  trace.roi = { venous: stage2.grids.venous, arterial: stage2.grids.arterial, pancreas: stage2.pancreas, pancreasMask };
  trace.decision = decision;
  report();
  if (decision.refusal || !decision.candidate || decision.confidence === undefined) {
    throw new AnalysisRefusedError(decision.refusal ?? 'tumour-not-found', decision.message ?? 'no tumour was found; no result is written', refusalDetails(decision));
  }
  const candidate = decision.candidate;
  const s = stage2.grids.venous.geometry.spacing;
  const diameterMm = Math.cbrt((6 * candidate.voxels.length * s[0] * s[1] * s[2]) / Math.PI);
  const venous: TumourFinding = { confidence: decision.confidence, peakIndex: candidate.peakIndex, centreMm: candidate.centreMm, diameterMm, level: roi.candidateLevel, voxels: candidate.voxels.length };
  const match = decision.arterial;
  const arterialFinding: TumourFinding | undefined =
    match?.centreMm && match.peakIndex
      ? { confidence: match.peak, peakIndex: match.peakIndex, centreMm: match.centreMm, diameterMm: Math.cbrt((6 * match.voxels * s[0] * s[1] * s[2]) / Math.PI), level: roi.candidateLevel, voxels: match.voxels }
      : undefined;
  const t2 = performance.now();
  return {
    venous,
    pancreas,
    confidenceCalibrated: spec.confidence !== undefined,
    onnxMs: pancreasOnnxMs + stage2.onnxMs,
    stageMs: { pancreas: t1 - t0, tumour: t2 - t1 },
    localisation: {
      venous: { finding: venous, grid: stage2.grids.venous, centreMm: venous.centreMm, refined: false },
      arterial: arterialFinding
        ? { finding: arterialFinding, grid: stage2.grids.arterial, centreMm: arterialFinding.centreMm, refined: true }
        : { grid: stage2.grids.venous, centreMm: [...venous.centreMm] as Vec3, refined: false },
    },
  };
}
