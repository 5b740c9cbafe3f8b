/**
 * Plans a HU volume from per-instance geometry, before (or without) any pixel arrives: the slice
 * order, the grid (origin, spacing, directions) and every reason the instances do not form one
 * regular grid. Pure.
 *
 * The same plan is made from WADO-RS metadata (serving: plan, then stream the pixels in) and from
 * parsed Part-10 headers (files on disk), so training and serving see identical volumes.
 *
 * Slices are ordered by their position along the slice normal (PS3.3 C.7.6.2.1.1: the normal is
 * the cross product of the row and column direction cosines), never by InstanceNumber, which
 * scanners assign in either direction and sometimes not at all.
 */
import { AnalysisRefusedError } from '../errors';
import { cross, dot, norm, type Geometry, type Vec3 } from './geometry';

/** What planning needs to know of one instance; from metadata (DicomJson) or a parsed header. */
export interface SliceDescriptor {
  sopInstanceUID: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
  imagePositionPatient?: Vec3;
  /** Six direction cosines: row direction, then column direction (PS3.3 C.7.6.2.1.1). */
  imageOrientationPatient?: number[];
  /** [row spacing, column spacing], mm. */
  pixelSpacing?: [number, number];
  rows?: number;
  columns?: number;
  sliceThickness?: number;
  numberOfFrames?: number;
  /** True for instances with functional groups (Enhanced CT); their geometry lives per frame. */
  enhancedMultiframe?: boolean;
  instanceNumber?: number;
}

export interface PlanTolerances {
  /** Largest difference of any direction cosine between slices (0.01 is about 0.6 degrees). */
  orientationCosine: number;
  /** Largest angle, in degrees, between the slice normal and the line through the slice positions. */
  tiltDegrees: number;
  /** Largest deviation of one slice step from the median step, as a fraction of the median. */
  spacingFraction: number;
  /** ... and in mm, whichever is larger (DS values are rounded by writers). */
  spacingMm: number;
}

export const DEFAULT_PLAN_TOLERANCES: PlanTolerances = {
  orientationCosine: 0.01,
  tiltDegrees: 0.5,
  spacingFraction: 0.05,
  spacingMm: 0.02,
};

/** One reason the instances do not form a regular grid. Codes are stable (docs/phase-selection.md). */
export interface PlanProblem {
  code:
    | 'no-instances'
    | 'enhanced-multiframe-unsupported'
    | 'missing-geometry'
    | 'mixed-series'
    | 'mixed-image-size'
    | 'invalid-orientation'
    | 'mixed-orientations'
    | 'mixed-frame-of-reference'
    | 'duplicate-slices'
    | 'gantry-tilt'
    | 'slice-gap'
    | 'uneven-spacing';
  message: string;
  details?: Record<string, unknown>;
}

export interface VolumePlan {
  geometry: Geometry;
  /** SOP Instance UIDs in volume order (k = 0 .. slices-1). */
  sopInstanceUIDs: string[];
  /** k of each SOP Instance UID. */
  sliceIndex: Map<string, number>;
  /** Planned ImagePositionPatient of each slice k. */
  positions: Vec3[];
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
}

export type PlanResult = { ok: true; plan: VolumePlan } | { ok: false; problems: PlanProblem[] };

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Plans the volume, or lists every problem found (the first is the most fundamental). Checks, in
 * order: instances present; single-frame; geometry present; one series; one image size and pixel
 * spacing; valid and identical orientations; one frame of reference; then, along the normal: no
 * duplicate positions, positions on the normal (no gantry tilt), uniform spacing (a step of about
 * twice the median or more is a missing slice, anything else uneven spacing).
 */
export function planVolume(slices: SliceDescriptor[], tolerances: PlanTolerances = DEFAULT_PLAN_TOLERANCES): PlanResult {
  const problems: PlanProblem[] = [];
  if (slices.length === 0) return { ok: false, problems: [{ code: 'no-instances', message: 'the series has no instances' }] };

  const multiframe = slices.filter((s) => s.enhancedMultiframe === true || (s.numberOfFrames ?? 1) > 1);
  if (multiframe.length > 0) {
    return {
      ok: false,
      problems: [
        {
          code: 'enhanced-multiframe-unsupported',
          message: `${multiframe.length} instance(s) are multi-frame (e.g. Enhanced CT); the node assembles single-frame CT Image Storage series only`,
          details: { instances: multiframe.length },
        },
      ],
    };
  }

  const missing = slices.filter(
    (s) => s.imagePositionPatient === undefined || s.imageOrientationPatient?.length !== 6 || s.pixelSpacing === undefined || !s.rows || !s.columns,
  );
  if (missing.length > 0) {
    return {
      ok: false,
      problems: [
        {
          code: 'missing-geometry',
          message: `${missing.length} instance(s) lack ImagePositionPatient, ImageOrientationPatient, PixelSpacing, Rows or Columns`,
          details: { instances: missing.length },
        },
      ],
    };
  }

  const seriesUIDs = distinct(slices.map((s) => s.seriesInstanceUID).filter((u): u is string => u !== undefined));
  if (seriesUIDs.length > 1) {
    problems.push({ code: 'mixed-series', message: `instances of ${seriesUIDs.length} series given as one volume`, details: { series: seriesUIDs.length } });
  }

  const sizes = distinct(slices.map((s) => `${s.rows}x${s.columns}`));
  const spacings = distinct(slices.map((s) => `${round(s.pixelSpacing![0], 4)}\\${round(s.pixelSpacing![1], 4)}`));
  if (sizes.length > 1 || spacings.length > 1) {
    problems.push({
      code: 'mixed-image-size',
      message: `slices differ in size (${sizes.join(', ')}) or pixel spacing (${spacings.join(', ')})`,
      details: { sizes, pixelSpacings: spacings },
    });
  }

  const first = slices[0].imageOrientationPatient!;
  const rowDirection: Vec3 = [first[0], first[1], first[2]];
  const columnDirection: Vec3 = [first[3], first[4], first[5]];
  const normalRaw = cross(rowDirection, columnDirection);
  const orthonormal =
    Math.abs(norm(rowDirection) - 1) < 0.01 && Math.abs(norm(columnDirection) - 1) < 0.01 && Math.abs(dot(rowDirection, columnDirection)) < 0.01;
  if (!orthonormal) {
    return {
      ok: false,
      problems: [
        ...problems,
        { code: 'invalid-orientation', message: `ImageOrientationPatient ${first.join('\\')} is not two orthogonal unit vectors` },
      ],
    };
  }
  const differing = slices.filter((s) => s.imageOrientationPatient!.some((v, i) => Math.abs(v - first[i]) > tolerances.orientationCosine));
  if (differing.length > 0) {
    const orientations = distinct(slices.map((s) => s.imageOrientationPatient!.map((v) => round(v, 3)).join('\\')));
    problems.push({
      code: 'mixed-orientations',
      message: `slices have ${orientations.length} different orientations (${orientations.slice(0, 4).join('; ')})`,
      details: { orientations },
    });
    return { ok: false, problems };
  }

  const frames = distinct(slices.map((s) => s.frameOfReferenceUID ?? ''));
  if (frames.length > 1) {
    problems.push({
      code: 'mixed-frame-of-reference',
      message: `slices belong to ${frames.length} frames of reference; their positions cannot be compared`,
      details: { framesOfReference: frames.length },
    });
  }

  // Re-orthonormalise: DS rounding leaves the cosines slightly off unit length.
  const n = norm(normalRaw);
  const normal: Vec3 = [normalRaw[0] / n, normalRaw[1] / n, normalRaw[2] / n];
  const rd: Vec3 = [rowDirection[0] / norm(rowDirection), rowDirection[1] / norm(rowDirection), rowDirection[2] / norm(rowDirection)];
  const cd = cross(normal, rd);

  const sorted = slices
    .map((s) => ({ s, along: dot(s.imagePositionPatient!, normal) }))
    .sort((a, b) => a.along - b.along || a.s.sopInstanceUID.localeCompare(b.s.sopInstanceUID));

  let spacing = slices[0].sliceThickness && slices[0].sliceThickness > 0 ? slices[0].sliceThickness : 1;
  if (sorted.length > 1) {
    const steps = sorted.slice(1).map((e, i) => e.along - sorted[i].along);
    const positiveSteps = steps.filter((st) => st > 1e-6);
    const typical = positiveSteps.length > 0 ? median(positiveSteps) : 0;
    const duplicateTolerance = Math.max(tolerances.spacingMm, 0.1 * typical);
    const duplicates = steps.filter((st) => st <= duplicateTolerance).length;
    if (duplicates > 0 || typical === 0) {
      problems.push({
        code: 'duplicate-slices',
        message: `${duplicates} slice(s) share a position along the normal with another (repeated or overlapping acquisitions)`,
        details: { duplicates },
      });
    } else {
      // Gantry tilt: the line through the positions leaves the normal (PS3.3 C.7.6.2.1.1 note; the
      // grid is sheared and a regular-grid geometry would misplace every voxel).
      let worst = 0;
      for (let i = 1; i < sorted.length; i++) {
        const a = sorted[i - 1].s.imagePositionPatient!;
        const b = sorted[i].s.imagePositionPatient!;
        const d: Vec3 = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
        const along = dot(d, normal);
        const perp = norm([d[0] - along * normal[0], d[1] - along * normal[1], d[2] - along * normal[2]]);
        worst = Math.max(worst, (Math.atan2(perp, Math.abs(along)) * 180) / Math.PI);
      }
      if (worst > tolerances.tiltDegrees) {
        problems.push({
          code: 'gantry-tilt',
          message: `slice positions deviate ${round(worst, 1)} degrees from the slice normal (gantry tilt or shear); the grid is not rectilinear`,
          details: { degrees: round(worst, 2) },
        });
      }
      const tolerance = Math.max(tolerances.spacingMm, tolerances.spacingFraction * typical);
      const irregular = steps.map((st, i) => ({ i, st })).filter(({ st }) => Math.abs(st - typical) > tolerance);
      if (irregular.length > 0) {
        const gaps = irregular.filter(({ st }) => st / typical >= 1.5 && Math.abs(st / typical - Math.round(st / typical)) * typical <= tolerance);
        if (gaps.length === irregular.length) {
          const missingSlices = gaps.reduce((sum, { st }) => sum + Math.round(st / typical) - 1, 0);
          problems.push({
            code: 'slice-gap',
            message: `${missingSlices} slice(s) missing: ${gaps.length} step(s) of ${gaps.map(({ st }) => round(st, 2)).join(', ')} mm where the spacing is ${round(typical, 3)} mm`,
            details: { missingSlices, spacingMm: round(typical, 4), gapsAfterSlice: gaps.map(({ i }) => i) },
          });
        } else {
          const stepValues = distinct(steps.map((st) => round(st, 2))).sort((a, b) => a - b);
          problems.push({
            code: 'uneven-spacing',
            message: `slice spacing varies: steps of ${stepValues.slice(0, 6).join(', ')}${stepValues.length > 6 ? ', ...' : ''} mm (median ${round(typical, 3)} mm)`,
            details: { steps: stepValues, medianMm: round(typical, 4), irregularSteps: irregular.length },
          });
        }
      }
      spacing = (sorted[sorted.length - 1].along - sorted[0].along) / (sorted.length - 1);
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const s0 = sorted[0].s;
  const geometry: Geometry = {
    dims: [s0.columns!, s0.rows!, sorted.length],
    // PixelSpacing is [between rows, between columns] = [spacing along j, along i].
    spacing: [s0.pixelSpacing![1], s0.pixelSpacing![0], spacing],
    origin: [...s0.imagePositionPatient!] as Vec3,
    rowDirection: rd,
    columnDirection: cd,
    normal,
  };
  const sopInstanceUIDs = sorted.map((e) => e.s.sopInstanceUID);
  const plan: VolumePlan = {
    geometry,
    sopInstanceUIDs,
    sliceIndex: new Map(sopInstanceUIDs.map((uid, k) => [uid, k])),
    positions: sorted.map((e) => [...e.s.imagePositionPatient!] as Vec3),
  };
  if (seriesUIDs.length === 1) plan.seriesInstanceUID = seriesUIDs[0];
  const studies = distinct(slices.map((s) => s.studyInstanceUID).filter((u): u is string => u !== undefined));
  if (studies.length === 1) plan.studyInstanceUID = studies[0];
  if (frames.length === 1 && frames[0] !== '') plan.frameOfReferenceUID = frames[0];
  return { ok: true, plan };
}

/** planVolume, throwing AnalysisRefusedError with the first problem's code and every problem in details. */
export function planVolumeOrThrow(slices: SliceDescriptor[], tolerances?: PlanTolerances): VolumePlan {
  const result = planVolume(slices, tolerances);
  if (result.ok) return result.plan;
  const [firstProblem] = result.problems;
  const message = result.problems.map((p) => p.message).join('; ');
  throw new AnalysisRefusedError(firstProblem.code, message, { problems: result.problems });
}
