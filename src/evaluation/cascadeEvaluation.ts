/**
 * What `tsr-node evaluate` records of the pancreas-first cascade for one study (docs/model-card.md,
 * "Localisation: two stages"), from what the stages saw (CascadeTrace) and the generator's truth:
 *   - the six localisation features and whether the candidate's venous centre lies inside the
 *     true tumour (`insideTumour`), whenever stage 2 gave a candidate, refused or not: what
 *     `train.py calibrate` fits the localisation confidence on;
 *   - pancreas Dice: stage 1's mask (the largest component at the threshold) against the true
 *     venous pancreas (tumour included) on the coarse grid;
 *   - tumour Dice: stage 2's venous tumour component against the true venous tumour on the ROI grid
 *     (an empty prediction, Dice 0, when stage 2 found no candidate; absent when stage 2 did not run).
 */
import type { CascadeTrace } from '../inference/analysisTypes';
import type { Geometry, Vec3 } from '../study/geometry';
import { truthMask, truthPancreasMask } from '../dataset/syntheticTruth';
import type { SyntheticStudyOptions } from '../synthetic';

/** The cascade's part of a study's record. */
export interface CascadeCaseFigures {
  /** Stage 1 mask vs the true pancreas on the coarse grid. */
  pancreasDice: number;
  pancreasVolumeMl: number;
  /** Stage 2 venous component vs the true tumour on the ROI grid; absent when stage 2 did not run (pancreas-not-found). */
  tumourDice?: number;
  /** Candidates stage 2 found (components at candidateLevel). */
  candidates?: number;
}

/** The chosen candidate, as the evaluation records it. */
export interface CascadeCandidateRecord {
  features: Record<string, number>;
  insideTumour: boolean;
  confidence: number;
  centreMm: Vec3;
  arterialCentreMm: Vec3;
  arterialMatched: boolean;
  diameterMm: number;
}

/** 2|A and B| / (|A| + |B|) of two 0/1 masks of one grid; 1 when both are empty. */
export function dice(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`dice: masks of ${a.length} and ${b.length} voxels`);
  let both = 0;
  let sum = 0;
  for (let n = 0; n < a.length; n++) {
    const x = a[n] ? 1 : 0;
    const y = b[n] ? 1 : 0;
    both += x & y;
    sum += x + y;
  }
  return sum === 0 ? 1 : (2 * both) / sum;
}

/** A one-voxel grid at a patient point: rasterising a mask on it says whether the point is inside. */
export function pointGrid(p: Vec3): Geometry {
  return { dims: [1, 1, 1], spacing: [1, 1, 1], origin: p, rowDirection: [1, 0, 0], columnDirection: [0, 1, 0], normal: [0, 0, 1] };
}

export interface StudyTruth {
  /** The ground-truth sidecar (tumour masks). */
  groundTruth: unknown;
  /** The generateStudy options (the pancreas mask is re-planned from them). */
  options: SyntheticStudyOptions;
}

/** Pancreas and tumour Dice of one study; undefined when the cascade did not run. */
export function cascadeFigures(trace: CascadeTrace | undefined, truth: StudyTruth): CascadeCaseFigures | undefined {
  if (!trace?.pancreas) return undefined;
  const coarse = trace.pancreas.grid.geometry;
  const predicted = trace.pancreas.found?.mask ?? new Uint8Array(trace.pancreas.grid.data.length);
  const figures: CascadeCaseFigures = {
    pancreasDice: dice(predicted, truthPancreasMask(truth.options, 'venous', coarse)),
    pancreasVolumeMl: trace.pancreas.found?.volumeMl ?? 0,
  };
  if (trace.roi && trace.decision) {
    const roi = trace.roi.venous.geometry;
    const component = new Uint8Array(trace.roi.venous.data.length);
    for (const n of trace.decision.candidate?.voxels ?? []) component[n] = 1;
    figures.tumourDice = dice(component, truthMask(truth.groundTruth, 'venous', roi));
    figures.candidates = trace.decision.candidates;
  }
  return figures;
}

/** The chosen candidate of stage 2, with its features and whether it lies in the tumour; undefined without one. */
export function cascadeCandidate(trace: CascadeTrace | undefined, groundTruth: unknown): CascadeCandidateRecord | undefined {
  const decision = trace?.decision;
  const candidate = decision?.candidate;
  if (!trace?.roi || !decision?.features || !candidate || decision.confidence === undefined) return undefined;
  const s = trace.roi.venous.geometry.spacing;
  return {
    features: { ...decision.features },
    insideTumour: truthMask(groundTruth, 'venous', pointGrid(candidate.centreMm))[0] === 1,
    confidence: decision.confidence,
    centreMm: candidate.centreMm,
    arterialCentreMm: decision.arterial?.centreMm ?? candidate.centreMm,
    arterialMatched: decision.arterial?.centreMm !== undefined,
    diameterMm: Math.cbrt((6 * candidate.voxels.length * s[0] * s[1] * s[2]) / Math.PI),
  };
}
