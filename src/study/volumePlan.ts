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
import { TAG } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import { cross, dot, norm, type Geometry, type Vec3 } from './geometry';
import { attributeLabel } from './tagLabels';
import { describeGroups, groupSlices, seriesLabel } from './planText';

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
    | 'implausible-image-size'
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

/**
 * The largest Rows or Columns planned: CT reconstructions are 512 or 1024 pixels square, ultra-high
 * resolution ones 2048; a larger header value is damage, and would have the node allocate
 * gigabytes before the first pixel shows that the header is wrong.
 */
export const MAX_IMAGE_SIDE = 4096;
/** The most voxels in one HU volume: 2^30 float32 values, 4 GiB (512 x 512 x 4096 slices). */
export const MAX_VOLUME_VOXELS = 2 ** 30;

const IMAGE_POSITION = attributeLabel('ImagePositionPatient', TAG.imagePositionPatient);
const IMAGE_ORIENTATION = attributeLabel('ImageOrientationPatient', TAG.imageOrientationPatient);
const PIXEL_SPACING = attributeLabel('PixelSpacing', TAG.pixelSpacing);
const ROWS_BY_COLUMNS = `${attributeLabel('Rows', TAG.rows)} x ${attributeLabel('Columns', TAG.columns)}`;

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round(x: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(x * factor) / factor;
}

/** A slice and its position along the slice normal. */
interface PlacedSlice {
  slice: SliceDescriptor;
  along: number;
}

/** The unit axes of the grid: row and column directions and the slice normal. */
interface GridAxes {
  rowDirection: Vec3;
  columnDirection: Vec3;
  normal: Vec3;
}

/**
 * The problem that stops planning before any geometry is compared: no instances, multi-frame
 * instances, or instances without the geometry attributes.
 */
function unplannable(slices: SliceDescriptor[]): PlanProblem | undefined {
  if (slices.length === 0) return { code: 'no-instances', message: 'the series has no instances' };
  const multiframe = slices.filter((slice) => slice.enhancedMultiframe === true || (slice.numberOfFrames ?? 1) > 1);
  if (multiframe.length > 0) {
    return {
      code: 'enhanced-multiframe-unsupported',
      message: `${multiframe.length} instance(s) are multi-frame (e.g. Enhanced CT); the node assembles single-frame CT Image Storage series only`,
      details: { instances: multiframe.length },
    };
  }
  const lacking = (slice: SliceDescriptor): string[] => [
    ...(slice.imagePositionPatient === undefined ? [IMAGE_POSITION] : []),
    ...(slice.imageOrientationPatient?.length !== 6 ? [IMAGE_ORIENTATION] : []),
    ...(slice.pixelSpacing === undefined ? [PIXEL_SPACING] : []),
    ...(!slice.rows || !slice.columns ? [ROWS_BY_COLUMNS] : []),
  ];
  const missing = slices.filter((slice) => lacking(slice).length > 0);
  if (missing.length > 0) {
    return {
      code: 'missing-geometry',
      message: `${missing.length} instance(s) lack ${lacking(missing[0]).join(', ')} or another of the geometry attributes (e.g. instance ${missing[0].sopInstanceUID})`,
      details: { instances: missing.length },
    };
  }
  return implausibleSize(slices);
}

function isWholeNumberUpTo(value: number | undefined, max: number): boolean {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= max;
}

/** Image sizes no CT series has, and volumes too large to allocate (MAX_IMAGE_SIDE, MAX_VOLUME_VOXELS). */
function implausibleSize(slices: SliceDescriptor[]): PlanProblem | undefined {
  const odd = slices.find((slice) => !isWholeNumberUpTo(slice.rows, MAX_IMAGE_SIDE) || !isWholeNumberUpTo(slice.columns, MAX_IMAGE_SIDE));
  if (odd !== undefined) {
    return {
      code: 'implausible-image-size',
      message: `instance ${odd.sopInstanceUID} has ${ROWS_BY_COLUMNS} ${odd.rows} x ${odd.columns}; a CT image has 1 to ${MAX_IMAGE_SIDE} pixels a side`,
      details: { rows: odd.rows, columns: odd.columns, max: MAX_IMAGE_SIDE },
    };
  }
  const largest = slices.reduce((most, slice) => Math.max(most, slice.rows! * slice.columns!), 0);
  if (largest * slices.length > MAX_VOLUME_VOXELS) {
    return {
      code: 'implausible-image-size',
      message: `${slices.length} slices of up to ${largest} pixels make ${largest * slices.length} voxels, more than ${MAX_VOLUME_VOXELS} (4 GiB of HU)`,
      details: { voxels: largest * slices.length, max: MAX_VOLUME_VOXELS },
    };
  }
  return undefined;
}

/** One image size and pixel spacing for every slice, or the mixed-image-size problem. */
function imageSizeProblem(slices: SliceDescriptor[]): PlanProblem | undefined {
  const sizes = groupSlices(slices, (slice) => `${slice.rows} x ${slice.columns}`);
  const spacings = groupSlices(slices, (slice) => `${round(slice.pixelSpacing![0], 4)}\\${round(slice.pixelSpacing![1], 4)}`);
  if (sizes.length > 1 || spacings.length > 1) {
    const differing = [
      ...(sizes.length > 1 ? [`${ROWS_BY_COLUMNS}: ${describeGroups(sizes)}`] : []),
      ...(spacings.length > 1 ? [`${PIXEL_SPACING}: ${describeGroups(spacings)}`] : []),
    ];
    return {
      code: 'mixed-image-size',
      message: `slices differ in ${differing.join('; and in ')}`,
      details: { sizes: sizes.map((group) => group.value), pixelSpacings: spacings.map((group) => group.value) },
    };
  }
  return undefined;
}

/**
 * The orientation problem that ends planning: the first slice's orientation is not two orthogonal
 * unit vectors, or another slice's differs from it by more than the tolerance.
 */
function orientationProblem(slices: SliceDescriptor[], tolerances: PlanTolerances): PlanProblem | undefined {
  const first = slices[0].imageOrientationPatient!;
  const rowDirection: Vec3 = [first[0], first[1], first[2]];
  const columnDirection: Vec3 = [first[3], first[4], first[5]];
  const orthonormal =
    Math.abs(norm(rowDirection) - 1) < 0.01 && Math.abs(norm(columnDirection) - 1) < 0.01 && Math.abs(dot(rowDirection, columnDirection)) < 0.01;
  if (!orthonormal) {
    return {
      code: 'invalid-orientation',
      message: `${IMAGE_ORIENTATION} ${first.join('\\')} of instance ${slices[0].sopInstanceUID} is not two orthogonal unit vectors`,
    };
  }
  const differing = slices.filter((slice) => slice.imageOrientationPatient!.some((v, i) => Math.abs(v - first[i]) > tolerances.orientationCosine));
  if (differing.length > 0) {
    const groups = groupSlices(slices, (slice) => slice.imageOrientationPatient!.map((v) => round(v, 3)).join('\\'));
    return {
      code: 'mixed-orientations',
      message: `slices differ in ${IMAGE_ORIENTATION} by more than ${tolerances.orientationCosine}: ${describeGroups(groups)}`,
      details: { orientations: groups.map((group) => group.value) },
    };
  }
  return undefined;
}

/** The grid's unit axes from ImageOrientationPatient, re-orthonormalised. */
function gridAxes(orientation: number[]): GridAxes {
  const rowCosines: Vec3 = [orientation[0], orientation[1], orientation[2]];
  const columnCosines: Vec3 = [orientation[3], orientation[4], orientation[5]];
  const normalRaw = cross(rowCosines, columnCosines);
  // Re-orthonormalise: DS rounding leaves the cosines slightly off unit length.
  const normalLength = norm(normalRaw);
  const normal: Vec3 = [normalRaw[0] / normalLength, normalRaw[1] / normalLength, normalRaw[2] / normalLength];
  const rowDirection: Vec3 = [rowCosines[0] / norm(rowCosines), rowCosines[1] / norm(rowCosines), rowCosines[2] / norm(rowCosines)];
  return { rowDirection, columnDirection: cross(normal, rowDirection), normal };
}

/**
 * Gantry tilt: the largest angle, in degrees, between the line through two neighbouring positions
 * and the normal (PS3.3 C.7.6.2.1.1 note; the grid is sheared and a regular-grid geometry would
 * misplace every voxel).
 */
function worstTiltDegrees(sorted: PlacedSlice[], normal: Vec3): number {
  let worst = 0;
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1].slice.imagePositionPatient!;
    const next = sorted[i].slice.imagePositionPatient!;
    const delta: Vec3 = [next[0] - previous[0], next[1] - previous[1], next[2] - previous[2]];
    const along = dot(delta, normal);
    const perpendicular = norm([delta[0] - along * normal[0], delta[1] - along * normal[1], delta[2] - along * normal[2]]);
    worst = Math.max(worst, (Math.atan2(perpendicular, Math.abs(along)) * 180) / Math.PI);
  }
  return worst;
}

/**
 * Steps that differ from the typical one: missing slices when every such step is a whole multiple
 * (about twice or more) of it, uneven spacing otherwise.
 */
function spacingProblem(steps: number[], typical: number, tolerances: PlanTolerances): PlanProblem | undefined {
  const tolerance = Math.max(tolerances.spacingMm, tolerances.spacingFraction * typical);
  const irregular = steps.map((step, i) => ({ i, step })).filter(({ step }) => Math.abs(step - typical) > tolerance);
  if (irregular.length === 0) return undefined;
  const gaps = irregular.filter(({ step }) => step / typical >= 1.5 && Math.abs(step / typical - Math.round(step / typical)) * typical <= tolerance);
  if (gaps.length === irregular.length) {
    const missingSlices = gaps.reduce((sum, { step }) => sum + Math.round(step / typical) - 1, 0);
    return {
      code: 'slice-gap',
      message: `${missingSlices} slice(s) missing: ${gaps.length} step(s) of ${gaps.map(({ step }) => round(step, 2)).join(', ')} mm where the spacing is ${round(typical, 3)} mm`,
      details: { missingSlices, spacingMm: round(typical, 4), gapsAfterSlice: gaps.map(({ i }) => i) },
    };
  }
  const stepValues = distinct(steps.map((step) => round(step, 2))).sort((a, b) => a - b);
  return {
    code: 'uneven-spacing',
    message: `slice spacing varies: steps of ${stepValues.slice(0, 6).join(', ')}${stepValues.length > 6 ? ', ...' : ''} mm (median ${round(typical, 3)} mm)`,
    details: { steps: stepValues, medianMm: round(typical, 4), irregularSteps: irregular.length },
  };
}

/**
 * Checks the slices along the normal (no duplicate positions, no gantry tilt, uniform steps),
 * adding what it finds to `problems`; returns the mean step between slices, or undefined for a
 * single slice or when positions repeat.
 */
function checkSteps(sorted: PlacedSlice[], normal: Vec3, tolerances: PlanTolerances, problems: PlanProblem[]): number | undefined {
  if (sorted.length <= 1) return undefined;
  const steps = sorted.slice(1).map((entry, i) => entry.along - sorted[i].along);
  const positiveSteps = steps.filter((step) => step > 1e-6);
  const typical = positiveSteps.length > 0 ? median(positiveSteps) : 0;
  const duplicateTolerance = Math.max(tolerances.spacingMm, 0.1 * typical);
  const duplicates = steps.filter((step) => step <= duplicateTolerance).length;
  if (duplicates > 0 || typical === 0) {
    problems.push({
      code: 'duplicate-slices',
      message: `${duplicates} slice(s) share a position along the normal with another (repeated or overlapping acquisitions)`,
      details: { duplicates },
    });
    return undefined;
  }
  const tilt = worstTiltDegrees(sorted, normal);
  if (tilt > tolerances.tiltDegrees) {
    problems.push({
      code: 'gantry-tilt',
      message: `slice positions deviate ${round(tilt, 1)} degrees from the slice normal (gantry tilt or shear); the grid is not rectilinear`,
      details: { degrees: round(tilt, 2) },
    });
  }
  const unevenSteps = spacingProblem(steps, typical, tolerances);
  if (unevenSteps !== undefined) problems.push(unevenSteps);
  return (sorted[sorted.length - 1].along - sorted[0].along) / (sorted.length - 1);
}

/** The plan of slices that passed every check. */
function buildPlan(sorted: PlacedSlice[], axes: GridAxes, spacing: number, slices: SliceDescriptor[], seriesUIDs: string[], frames: string[]): VolumePlan {
  const firstSlice = sorted[0].slice;
  const geometry: Geometry = {
    dims: [firstSlice.columns!, firstSlice.rows!, sorted.length],
    // PixelSpacing is [between rows, between columns] = [spacing along j, along i].
    spacing: [firstSlice.pixelSpacing![1], firstSlice.pixelSpacing![0], spacing],
    origin: [...firstSlice.imagePositionPatient!] as Vec3,
    rowDirection: axes.rowDirection,
    columnDirection: axes.columnDirection,
    normal: axes.normal,
  };
  const sopInstanceUIDs = sorted.map((entry) => entry.slice.sopInstanceUID);
  const plan: VolumePlan = {
    geometry,
    sopInstanceUIDs,
    sliceIndex: new Map(sopInstanceUIDs.map((uid, k) => [uid, k])),
    positions: sorted.map((entry) => [...entry.slice.imagePositionPatient!] as Vec3),
  };
  if (seriesUIDs.length === 1) plan.seriesInstanceUID = seriesUIDs[0];
  const studies = distinct(slices.map((slice) => slice.studyInstanceUID).filter((u): u is string => u !== undefined));
  if (studies.length === 1) plan.studyInstanceUID = studies[0];
  if (frames.length === 1 && frames[0] !== '') plan.frameOfReferenceUID = frames[0];
  return plan;
}

/**
 * Plans the volume, or lists every problem found (the first is the most fundamental). Checks, in
 * order: instances present; single-frame; geometry present; one series; one image size and pixel
 * spacing; valid and identical orientations; one frame of reference; then, along the normal: no
 * duplicate positions, positions on the normal (no gantry tilt), uniform spacing (a step of about
 * twice the median or more is a missing slice, anything else uneven spacing).
 */
export function planVolume(slices: SliceDescriptor[], tolerances: PlanTolerances = DEFAULT_PLAN_TOLERANCES): PlanResult {
  const stop = unplannable(slices);
  if (stop !== undefined) return { ok: false, problems: [stop] };

  const problems: PlanProblem[] = [];
  const seriesUIDs = distinct(slices.map((slice) => slice.seriesInstanceUID).filter((u): u is string => u !== undefined));
  if (seriesUIDs.length > 1) {
    problems.push({ code: 'mixed-series', message: `instances of ${seriesUIDs.length} series given as one volume`, details: { series: seriesUIDs.length } });
  }
  const sizeProblem = imageSizeProblem(slices);
  if (sizeProblem !== undefined) problems.push(sizeProblem);
  const orientation = orientationProblem(slices, tolerances);
  if (orientation !== undefined) return { ok: false, problems: [...problems, orientation] };

  const frames = distinct(slices.map((slice) => slice.frameOfReferenceUID ?? ''));
  if (frames.length > 1) {
    problems.push({
      code: 'mixed-frame-of-reference',
      message: `slices belong to ${frames.length} frames of reference; their positions cannot be compared`,
      details: { framesOfReference: frames.length },
    });
  }

  const axes = gridAxes(slices[0].imageOrientationPatient!);
  const sorted = slices
    .map((slice) => ({ slice, along: dot(slice.imagePositionPatient!, axes.normal) }))
    .sort((a, b) => a.along - b.along || a.slice.sopInstanceUID.localeCompare(b.slice.sopInstanceUID));
  const thickness = slices[0].sliceThickness;
  const spacing = checkSteps(sorted, axes.normal, tolerances, problems) ?? (thickness !== undefined && Number.isFinite(thickness) && thickness > 0 ? thickness : 1);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, plan: buildPlan(sorted, axes, spacing, slices, seriesUIDs, frames) };
}

/** planVolume, throwing AnalysisRefusedError with the first problem's code and every problem in details. */
export function planVolumeOrThrow(slices: SliceDescriptor[], tolerances?: PlanTolerances): VolumePlan {
  const result = planVolume(slices, tolerances);
  if (result.ok) return result.plan;
  const [firstProblem] = result.problems;
  const message = `${seriesLabel(slices)}: ${result.problems.map((problem) => problem.message).join('; ')}`;
  throw new AnalysisRefusedError(firstProblem.code, message, { problems: result.problems });
}
