/**
 * The pancreas-first cascade's pure parts, on plain probability grids (docs/model-card.md,
 * "Localisation: two stages"):
 *   - the pancreas mask of stage 1 (largest 26-connected component at the threshold) and the ROI
 *     centre: the centre of that component's axis-aligned bounding box in grid index space,
 *     converted to patient mm (the one definition the dataset builder also uses on the true mask);
 *   - the decision on stage 2's output: candidates (26-connected components of the venous tumour
 *     map at candidateLevel), which one is the tumour (highest evidence among those in or on the
 *     pancreas), the arterial centre near it, the six localisation features and the calibrated
 *     confidence, and which refusal applies.
 * The pancreas mask a candidate's overlap is measured against (the node's choice, written down in
 * the model card): stage 2's pancreas channel >= 0.5 OR stage 1's mask resampled (nearest voxel)
 * onto the ROI grid, dilated by roi.pancreasDilationMm.
 */
import { indexToPatient, patientToIndex, type Geometry, type Vec3 } from '../study/geometry';
import type { ConfidenceSpec, LocalisationFeature, RoiSpec } from './manifest';
import { connectedComponent, findPeak, floodFill26, type ProbabilityGrid } from './tumourFinding';

/** Flat indices of each 26-connected component of the voxels where `inside(n)`, in scan order of their first voxel. */
export function components(dims: Vec3, inside: (n: number) => boolean): Int32Array[] {
  const total = dims[0] * dims[1] * dims[2];
  const labelled = new Uint8Array(total);
  const out: Int32Array[] = [];
  for (let start = 0; start < total; start++) {
    if (labelled[start] || !inside(start)) continue;
    out.push(floodFill26(dims, start, inside, labelled));
  }
  return out;
}

/** The largest 26-connected component of a mask's non-zero voxels (the first in scan order on ties); empty when none. */
export function largestMaskComponent(mask: Uint8Array, dims: Vec3): Int32Array {
  let best: Int32Array = new Int32Array(0);
  for (const c of components(dims, (n) => mask[n] !== 0)) if (c.length > best.length) best = c;
  return best;
}

/** Millilitres of one voxel of a grid. */
export function voxelMl(geometry: Geometry): number {
  const s = geometry.spacing;
  return (s[0] * s[1] * s[2]) / 1000;
}

/** The ROI centre of a component: its bounding box's centre in grid index space, in patient mm. */
export function boxCentreMm(component: Int32Array, geometry: Geometry): Vec3 {
  const [nx, ny] = geometry.dims;
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const n of component) {
    const idx: Vec3 = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      if (idx[a] < lo[a]) lo[a] = idx[a];
      if (idx[a] > hi[a]) hi[a] = idx[a];
    }
  }
  return indexToPatient(geometry, (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2);
}

/** The ROI centre from a pancreas mask on a grid (largest component, its box centre); undefined when the mask is empty. */
export function roiCentreFromMask(mask: Uint8Array, geometry: Geometry): Vec3 | undefined {
  const component = largestMaskComponent(mask, geometry.dims);
  return component.length ? boxCentreMm(component, geometry) : undefined;
}

export interface PancreasMask {
  /** 1 on the largest component at the threshold, else 0. */
  mask: Uint8Array;
  voxels: number;
  volumeMl: number;
  roiCentreMm: Vec3;
}

/** Stage 1's pancreas: the largest component of P(pancreas) >= threshold; undefined when no voxel reaches it. */
export function pancreasFromProbability(grid: ProbabilityGrid, threshold: number): PancreasMask | undefined {
  const above = new Uint8Array(grid.data.length);
  for (let n = 0; n < above.length; n++) above[n] = grid.data[n] >= threshold ? 1 : 0;
  const component = largestMaskComponent(above, grid.geometry.dims);
  if (component.length === 0) return undefined;
  const mask = new Uint8Array(grid.data.length);
  for (const n of component) mask[n] = 1;
  return { mask, voxels: component.length, volumeMl: component.length * voxelMl(grid.geometry), roiCentreMm: boxCentreMm(component, grid.geometry) };
}

/** A mask resampled onto another grid in patient space: each target voxel takes the nearest source voxel (0 outside). */
export function resampleMaskNearest(mask: Uint8Array, from: Geometry, to: Geometry): Uint8Array {
  const [nx, ny, nz] = to.dims;
  const [fx, fy, fz] = from.dims;
  const out = new Uint8Array(nx * ny * nz);
  // Target index -> source index is affine: base + i * di + j * dj + k * dk, each point computed directly.
  const base = patientToIndex(from, indexToPatient(to, 0, 0, 0));
  const step = (i: number, j: number, k: number): Vec3 => {
    const p = patientToIndex(from, indexToPatient(to, i, j, k));
    return [p[0] - base[0], p[1] - base[1], p[2] - base[2]];
  };
  const di = step(1, 0, 0);
  const dj = step(0, 1, 0);
  const dk = step(0, 0, 1);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        const a = Math.round(base[0] + i * di[0] + j * dj[0] + k * dk[0]);
        const b = Math.round(base[1] + i * di[1] + j * dj[1] + k * dk[1]);
        const c = Math.round(base[2] + i * di[2] + j * dj[2] + k * dk[2]);
        if (a < 0 || b < 0 || c < 0 || a >= fx || b >= fy || c >= fz) continue;
        out[row + i] = mask[(c * fy + b) * fx + a];
      }
    }
  }
  return out;
}

/**
 * Whether grid voxel n lies within `radiusMm` of a mask voxel (the mask dilated by a ball); the
 * voxel itself is tried first, so a voxel inside the mask costs one look-up.
 */
export function dilatedMaskTest(mask: Uint8Array, geometry: Geometry, radiusMm: number): (n: number) => boolean {
  const [nx, ny, nz] = geometry.dims;
  const s = geometry.spacing;
  const r = [0, 1, 2].map((a) => Math.floor(radiusMm / s[a] + 1e-9));
  const offsets: Vec3[] = [[0, 0, 0]];
  for (let dk = -r[2]; dk <= r[2]; dk++) {
    for (let dj = -r[1]; dj <= r[1]; dj++) {
      for (let di = -r[0]; di <= r[0]; di++) {
        if ((di || dj || dk) && (di * s[0]) ** 2 + (dj * s[1]) ** 2 + (dk * s[2]) ** 2 <= radiusMm * radiusMm + 1e-9) offsets.push([di, dj, dk]);
      }
    }
  }
  return (n) => {
    const i = n % nx;
    const j = Math.floor(n / nx) % ny;
    const k = Math.floor(n / (nx * ny));
    for (const [di, dj, dk] of offsets) {
      const ii = i + di;
      const jj = j + dj;
      const kk = k + dk;
      if (ii < 0 || jj < 0 || kk < 0 || ii >= nx || jj >= ny || kk >= nz) continue;
      if (mask[(kk * ny + jj) * nx + ii]) return true;
    }
    return false;
  };
}

/** The pancreas mask on the ROI grid the overlap is measured against: stage 2's pancreas channel >= 0.5, or stage 1's mask there. */
export function roiPancreasMask(pancreasChannel: ProbabilityGrid, stage1?: { mask: Uint8Array; geometry: Geometry }): Uint8Array {
  const out = stage1 ? resampleMaskNearest(stage1.mask, stage1.geometry, pancreasChannel.geometry) : new Uint8Array(pancreasChannel.data.length);
  for (let n = 0; n < out.length; n++) if (pancreasChannel.data[n] >= 0.5) out[n] = 1;
  return out;
}

export interface Candidate {
  /** Flat indices of its voxels on the ROI grid. */
  voxels: Int32Array;
  peak: number;
  peakIndex: Vec3;
  meanProbability: number;
  volumeMl: number;
  /** Probability-weighted centre, patient mm. */
  centreMm: Vec3;
  /** Fraction of its voxels inside the dilated pancreas mask. */
  pancreasOverlap: number;
  /** peak * (overlap >= minPancreasOverlap ? 1 : 0.1). */
  evidence: number;
}

function weightedCentre(grid: ProbabilityGrid, voxels: Int32Array, data: Float32Array = grid.data): Vec3 {
  const [nx, ny] = grid.geometry.dims;
  let w = 0;
  let si = 0;
  let sj = 0;
  let sk = 0;
  for (const n of voxels) {
    const p = data[n];
    w += p;
    si += p * (n % nx);
    sj += p * (Math.floor(n / nx) % ny);
    sk += p * Math.floor(n / (nx * ny));
  }
  if (!(w > 0)) {
    // No weight (a shift's map may be zero there): the plain centroid.
    w = voxels.length;
    si = sj = sk = 0;
    for (const n of voxels) {
      si += n % nx;
      sj += Math.floor(n / nx) % ny;
      sk += Math.floor(n / (nx * ny));
    }
  }
  return indexToPatient(grid.geometry, si / w, sj / w, sk / w);
}

/** The candidates of a venous tumour map: its components at `roi.candidateLevel`, each measured. */
export function findCandidates(venous: ProbabilityGrid, roi: Pick<RoiSpec, 'candidateLevel' | 'minPancreasOverlap'>, inPancreas: (n: number) => boolean): Candidate[] {
  const [nx, ny] = venous.geometry.dims;
  const data = venous.data;
  return components(venous.geometry.dims, (n) => data[n] >= roi.candidateLevel).map((voxels) => {
    let peak = -Infinity;
    let peakAt = voxels[0];
    let sum = 0;
    let inside = 0;
    for (const n of voxels) {
      sum += data[n];
      if (data[n] > peak) {
        peak = data[n];
        peakAt = n;
      }
      if (inPancreas(n)) inside++;
    }
    const pancreasOverlap = inside / voxels.length;
    return {
      voxels,
      peak,
      peakIndex: [peakAt % nx, Math.floor(peakAt / nx) % ny, Math.floor(peakAt / (nx * ny))] as Vec3,
      meanProbability: sum / voxels.length,
      volumeMl: voxels.length * voxelMl(venous.geometry),
      centreMm: weightedCentre(venous, voxels),
      pancreasOverlap,
      evidence: peak * (pancreasOverlap >= roi.minPancreasOverlap ? 1 : 0.1),
    };
  });
}

export type LocalisationFeatures = Record<LocalisationFeature, number>;

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
const distance = (a: Vec3, b: Vec3): number => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** logit(p), clamped to [-20, 20]. */
export function clampedLogit(p: number): number {
  return clamp(Math.log(p / (1 - p)), -20, 20);
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** RMS distance (mm) of the candidate's centres on each shift's map from their mean; 0 with one map. */
export function shiftSpreadMm(grid: ProbabilityGrid, voxels: Int32Array, perShift: readonly Float32Array[]): number {
  if (perShift.length < 2) return 0;
  const centres = perShift.map((data) => weightedCentre(grid, voxels, data));
  const mean: Vec3 = [0, 1, 2].map((a) => centres.reduce((s, c) => s + c[a], 0) / centres.length) as Vec3;
  return Math.sqrt(centres.reduce((s, c) => s + distance(c, mean) ** 2, 0) / centres.length);
}

/** The calibrated localisation confidence: sigmoid(intercept + sum(w_i f_i)); without a calibration, sigmoid(peakLogit). */
export function localisationConfidence(features: LocalisationFeatures, calibration?: ConfidenceSpec): number {
  if (!calibration) return sigmoid(features.peakLogit);
  return sigmoid(calibration.features.reduce((z, name, i) => z + calibration.weights[i] * features[name], calibration.intercept));
}

export interface ArterialMatch {
  /** Absent when the arterial map has no voxel at candidateLevel within the search radius. */
  centreMm?: Vec3;
  peakIndex?: Vec3;
  /** The arterial component's peak probability and size (voxels); 0 without a match. */
  peak: number;
  voxels: number;
  /** 0 when there is no arterial match. */
  phaseDistanceMm: number;
}

/**
 * findPeak within a ball, visiting only the voxels of the ball's bounding box (the localiser grids
 * are patient-axis aligned); the same voxel as findPeak, first in scan order on ties.
 */
export function windowPeak(grid: ProbabilityGrid, centreMm: Vec3, radiusMm: number): { index: Vec3; value: number } | undefined {
  const g = grid.geometry;
  const aligned = g.rowDirection[0] === 1 && g.columnDirection[1] === 1 && g.normal[2] === 1;
  if (!aligned) return findPeak(grid, { centreMm, radiusMm });
  const [nx, ny, nz] = g.dims;
  const range = (a: number, n: number): [number, number] => [
    Math.max(0, Math.floor((centreMm[a] - radiusMm - g.origin[a]) / g.spacing[a])),
    Math.min(n - 1, Math.ceil((centreMm[a] + radiusMm - g.origin[a]) / g.spacing[a])),
  ];
  const [i0, i1] = range(0, nx);
  const [j0, j1] = range(1, ny);
  const [k0, k1] = range(2, nz);
  const r2 = radiusMm * radiusMm;
  let best = -Infinity;
  let at: Vec3 | undefined;
  for (let k = k0; k <= k1; k++) {
    const dz = g.origin[2] + k * g.spacing[2] - centreMm[2];
    for (let j = j0; j <= j1; j++) {
      const dy = g.origin[1] + j * g.spacing[1] - centreMm[1];
      for (let i = i0; i <= i1; i++) {
        const v = grid.data[(k * ny + j) * nx + i];
        if (!(v > best)) continue;
        const dx = g.origin[0] + i * g.spacing[0] - centreMm[0];
        if (dx * dx + dy * dy + dz * dz > r2) continue;
        best = v;
        at = [i, j, k];
      }
    }
  }
  return at ? { index: at, value: best } : undefined;
}

/** The arterial component near the venous centre (its peak within `radiusMm`, the component at candidateLevel). */
export function matchArterial(arterial: ProbabilityGrid, venousCentreMm: Vec3, candidateLevel: number, radiusMm: number): ArterialMatch {
  const peak = windowPeak(arterial, venousCentreMm, radiusMm);
  if (!peak || !(peak.value >= candidateLevel)) return { phaseDistanceMm: 0, peak: 0, voxels: 0 };
  const component = connectedComponent(arterial, peak.index, candidateLevel);
  const centreMm = weightedCentre(arterial, component);
  return { centreMm, peakIndex: peak.index, peak: peak.value, voxels: component.length, phaseDistanceMm: distance(centreMm, venousCentreMm) };
}

export type CascadeRefusal = 'tumour-not-found' | 'finding-outside-pancreas' | 'phases-disagree';

export interface CascadeDecisionInput {
  /** Stage 2's maps on the ROI grid, averaged over the shifts. */
  venous: ProbabilityGrid;
  arterial: ProbabilityGrid;
  /** The pancreas mask on the ROI grid (roiPancreasMask), before dilation. */
  pancreasMask: Uint8Array;
  /** The venous map of each shift, moved back (one entry without shift averaging). */
  venousByShift: readonly Float32Array[];
  roi: RoiSpec;
  calibration?: ConfidenceSpec;
  /** Threshold on the confidence (the manifest's minConfidence). */
  minConfidence: number;
  arterialSearchRadiusMm: number;
}

export interface CascadeDecision {
  /** Absent: the study is localised. */
  refusal?: CascadeRefusal;
  /** Plain-language reason of the refusal. */
  message?: string;
  /** The candidate chosen (highest evidence in or on the pancreas, else highest evidence); absent without candidates. */
  candidate?: Candidate;
  arterial?: ArterialMatch;
  features?: LocalisationFeatures;
  confidence?: number;
  candidates: number;
}

/** The decision on stage 2's output: the tumour candidate, its features and confidence, or the refusal that applies. */
export function decideCascade(input: CascadeDecisionInput): CascadeDecision {
  const { roi } = input;
  const inPancreas = dilatedMaskTest(input.pancreasMask, input.venous.geometry, roi.pancreasDilationMm);
  const candidates = findCandidates(input.venous, roi, inPancreas);
  if (candidates.length === 0) {
    return { refusal: 'tumour-not-found', message: `the tumour model found no candidate (no venous tumour probability reaches ${roi.candidateLevel}); no result is written`, candidates: 0 };
  }
  const byEvidence = [...candidates].sort((a, b) => b.evidence - a.evidence || b.peak - a.peak);
  const inside = byEvidence.filter((c) => c.pancreasOverlap >= roi.minPancreasOverlap);
  const candidate = inside[0] ?? byEvidence[0];
  const arterial = matchArterial(input.arterial, candidate.centreMm, roi.candidateLevel, input.arterialSearchRadiusMm);
  const features: LocalisationFeatures = {
    peakLogit: clampedLogit(candidate.peak),
    meanProbability: candidate.meanProbability,
    pancreasOverlap: candidate.pancreasOverlap,
    phaseDistanceMm: arterial.phaseDistanceMm,
    logVolumeMl: Math.log(candidate.volumeMl + 0.01),
    shiftSpreadMm: shiftSpreadMm(input.venous, candidate.voxels, input.venousByShift),
  };
  const confidence = localisationConfidence(features, input.calibration);
  const decision: CascadeDecision = { candidate, arterial, features, confidence, candidates: candidates.length };
  if (inside.length === 0) {
    const overlap = (100 * candidate.pancreasOverlap).toFixed(0);
    return { ...decision, refusal: 'finding-outside-pancreas', message: `every tumour candidate lies outside the pancreas (the strongest overlaps it by ${overlap}%, at least ${Math.round(100 * roi.minPancreasOverlap)}% is needed); no result is written` };
  }
  if (arterial.phaseDistanceMm > roi.maxPhaseDistanceMm) {
    const mm = arterial.phaseDistanceMm.toFixed(1);
    return { ...decision, refusal: 'phases-disagree', message: `the tumour lies ${mm} mm apart in the arterial and venous images (at most ${roi.maxPhaseDistanceMm} mm is accepted); no result is written` };
  }
  if (confidence < input.minConfidence) {
    const calibrated = input.calibration ? 'calibrated localisation confidence' : 'localisation confidence (uncalibrated: the peak probability)';
    return { ...decision, refusal: 'tumour-not-found', message: `the ${calibrated} is ${confidence.toFixed(3)}, below the threshold ${input.minConfidence}; no result is written` };
  }
  return decision;
}
