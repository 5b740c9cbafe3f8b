/**
 * The gates of phase selection: the rules a series must pass to be a candidate, in order, each
 * recorded on the candidate as passed or failed; the first failure is its `failureCode`. First
 * the series gates (CT, SOP class, not a dose report or localizer, body part, axial, not a
 * reformat, one frame of reference, enough and thin enough slices, a regular grid), then, once the
 * phase is known, the phase gates (contrast, not delayed, a known phase).
 */
import { SOP_CLASS } from '../dicom/dictionary';
import type { ReasonCode } from '../errors';
import { formatNumber } from './phaseExplanation';
import { firstMatch, type CompiledPatterns } from './phasePatterns';
import type { SelectionRules } from './selectionRules';
import { recordPass, type SeriesReview } from './seriesReview';
import { planVolume } from './volumePlan';

/** Gate order; a study's reason is the failure of the candidate that got furthest. */
export const GATES = [
  'modality',
  'sop-class',
  'not-dose-report',
  'not-localizer',
  'body-part',
  'axial',
  'not-reformat',
  'single-frame-of-reference',
  'enough-slices',
  'thin-enough',
  'regular-grid',
  'contrast',
  'not-delayed',
  'phase-known',
] as const;

type Gate = (typeof GATES)[number];

const REFORMAT_IMAGE_TYPES = ['MPR', 'MIP', 'MINIP', 'REFORMATTED', 'PROJECTION IMAGE', 'VOLUME', 'CURVED', 'VR', 'VOLUME_RENDER', 'SCREEN SHOT'];

/** Records a failed gate; the first failure sets the candidate's failure code and how far it got. */
function recordFailure(review: SeriesReview, rule: Gate, code: ReasonCode, detail: string): void {
  const { candidate } = review;
  candidate.details.failed.push({ rule, detail });
  if (candidate.failureCode === undefined) {
    candidate.failureCode = code;
    review.gateReached = GATES.indexOf(rule);
  }
}

/** The angle, in degrees, between the slice normal and the patient's head-foot axis. */
function obliqueDegrees(orientation: number[]): number {
  const nz = orientation[0] * orientation[4] - orientation[1] * orientation[3];
  const nx = orientation[1] * orientation[5] - orientation[2] * orientation[4];
  const ny = orientation[2] * orientation[3] - orientation[0] * orientation[5];
  const len = Math.hypot(nx, ny, nz) || 1;
  return (Math.acos(Math.min(1, Math.abs(nz) / len)) * 180) / Math.PI;
}

function planeName(orientation: number[]): string {
  const normal = [
    orientation[1] * orientation[5] - orientation[2] * orientation[4],
    orientation[2] * orientation[3] - orientation[0] * orientation[5],
    orientation[0] * orientation[4] - orientation[1] * orientation[3],
  ].map(Math.abs);
  if (normal[2] >= normal[0] && normal[2] >= normal[1]) return 'axial';
  return normal[1] >= normal[0] ? 'coronal' : 'sagittal';
}

/** What the series is: CT Image Storage, not a dose report, not a localizer, a body part that shows the pancreas. */
function seriesKindGates(review: SeriesReview, rules: SelectionRules, patterns: CompiledPatterns): void {
  const { summary } = review;
  const description = summary.seriesDescription.normalize('NFKC');
  const classes = summary.sopClassUIDs;
  if (classes.includes(SOP_CLASS.enhancedCtImageStorage) || summary.hasFunctionalGroups || summary.numberOfFrames > 1) {
    recordFailure(review, 'sop-class', 'enhanced-multiframe-unsupported', 'Enhanced CT / multi-frame images: the node reads single-frame CT Image Storage series only');
  } else if (classes.length > 0 && classes.some((uid) => uid !== SOP_CLASS.ctImageStorage)) {
    recordFailure(review, 'sop-class', 'unsupported-sop-class', `SOP class ${classes.filter((uid) => uid !== SOP_CLASS.ctImageStorage).join(', ')} is not CT Image Storage`);
  } else {
    recordPass(review, 'sop-class', classes.length > 0 ? 'CT Image Storage' : 'SOP class not reported (assumed CT Image Storage)');
  }

  const dose = firstMatch(patterns.doseReport, description);
  if (dose !== undefined) recordFailure(review, 'not-dose-report', 'dose-report', `"${summary.seriesDescription}" is a dose report or screen capture ("${dose}")`);
  else recordPass(review, 'not-dose-report', 'not a dose report');

  const localizerType = summary.imageTypes.some((imageType) => imageType.includes('LOCALIZER'));
  const localizerWord = firstMatch(patterns.localizer, description);
  if (localizerType || localizerWord !== undefined) {
    recordFailure(review, 'not-localizer', 'localizer', localizerType ? 'ImageType LOCALIZER' : `"${summary.seriesDescription}" is a localizer ("${localizerWord}")`);
  } else recordPass(review, 'not-localizer', 'not a localizer');

  const bodyPart = summary.bodyPartExamined;
  if (bodyPart !== undefined && rules.limits.excludedBodyParts.map((excluded) => excluded.toUpperCase()).includes(bodyPart.replace(/[\s_]/g, ''))) {
    recordFailure(review, 'body-part', 'wrong-body-part', `BodyPartExamined ${bodyPart} cannot show the pancreas`);
  } else recordPass(review, 'body-part', bodyPart === undefined ? 'BodyPartExamined not given' : `BodyPartExamined ${bodyPart}`);
}

/** Axial slices: one orientation, within the oblique limit (or ImageType AXIAL without orientation). */
function axialGate(review: SeriesReview, rules: SelectionRules): void {
  const { summary } = review;
  if (summary.orientations.length > 1) {
    recordFailure(review, 'axial', 'mixed-orientations', `${summary.orientations.length} different orientations in one series`);
  } else if (summary.orientations.length === 1) {
    const orientation = summary.orientations[0];
    const degrees = obliqueDegrees(orientation);
    if (planeName(orientation) !== 'axial' || degrees > rules.limits.maxObliqueDegrees) {
      recordFailure(
        review,
        'axial',
        'not-axial',
        `${planeName(orientation)} orientation (normal ${formatNumber(degrees)} degrees from the head-foot axis; limit ${rules.limits.maxObliqueDegrees})`,
      );
    } else recordPass(review, 'axial', `axial (normal ${formatNumber(degrees)} degrees from the head-foot axis)`);
  } else if (summary.imageTypes.some((imageType) => imageType.includes('AXIAL'))) {
    recordPass(review, 'axial', 'ImageType AXIAL (no ImageOrientationPatient)');
  } else {
    recordFailure(review, 'axial', 'missing-geometry', 'no ImageOrientationPatient');
  }
}

/** A stack the node can read: not a reformat, one frame of reference, enough and thin enough slices on a regular grid. */
function stackGates(review: SeriesReview, rules: SelectionRules, patterns: CompiledPatterns): void {
  const { summary } = review;
  const description = summary.seriesDescription.normalize('NFKC');
  const reformatType = summary.imageTypes.flat().find((value) => REFORMAT_IMAGE_TYPES.includes(value));
  const reformatWord = firstMatch(patterns.reformat, description);
  if (reformatType !== undefined || reformatWord !== undefined) {
    recordFailure(
      review,
      'not-reformat',
      'derived-reformat',
      reformatType !== undefined ? `ImageType ${reformatType}: a reformat or projection` : `"${summary.seriesDescription}" is a reformat or projection ("${reformatWord}")`,
    );
  } else recordPass(review, 'not-reformat', 'not a reformat or projection');

  if (summary.frameOfReferenceUIDs.length > 1) {
    recordFailure(review, 'single-frame-of-reference', 'mixed-frame-of-reference', `${summary.frameOfReferenceUIDs.length} frames of reference in one series`);
  } else recordPass(review, 'single-frame-of-reference', summary.frameOfReferenceUIDs.length === 1 ? 'one frame of reference' : 'FrameOfReferenceUID not reported');

  if (summary.instanceCount < rules.limits.minSlices) {
    recordFailure(review, 'enough-slices', 'too-few-slices', `${summary.instanceCount} slices; at least ${rules.limits.minSlices} needed`);
  } else recordPass(review, 'enough-slices', `${summary.instanceCount} slices`);

  const thickness = review.thickness;
  if (thickness !== undefined && thickness > rules.limits.maxSliceThicknessMm) {
    recordFailure(review, 'thin-enough', 'too-thick', `slices ${formatNumber(thickness)} mm thick; at most ${rules.limits.maxSliceThicknessMm} mm`);
  } else recordPass(review, 'thin-enough', thickness === undefined ? 'SliceThickness not given' : `slices ${formatNumber(thickness)} mm thick`);

  // The grid (volumePlan.ts on the metadata) only for a series that passed every gate so far.
  if (summary.hasMetadata && review.candidate.failureCode === undefined) {
    const plan = planVolume(summary.instances);
    if (plan.ok) {
      const geometry = plan.plan.geometry;
      recordPass(review, 'regular-grid', `${geometry.dims[0]}x${geometry.dims[1]}x${geometry.dims[2]} grid, ${formatNumber(geometry.spacing[2])} mm between slices`);
    } else {
      for (const problem of plan.problems) recordFailure(review, 'regular-grid', problem.code, problem.message);
    }
  }
}

/** Runs the series gates of one series; records passed and failed rules on the candidate. */
export function runSeriesGates(review: SeriesReview, rules: SelectionRules, patterns: CompiledPatterns): void {
  if (review.summary.modality !== 'CT') {
    recordFailure(review, 'modality', 'not-ct', `modality ${review.summary.modality ?? 'unknown'}, not CT`);
    return;
  }
  recordPass(review, 'modality', 'modality CT');
  seriesKindGates(review, rules, patterns);
  axialGate(review, rules);
  stackGates(review, rules, patterns);
}

/**
 * The phase gates of a series that passed the series gates, once its phase is known: contrast,
 * not delayed, a phase that is known, agreed and not in doubt. Passing them makes it eligible.
 */
export function runPhaseGates(review: SeriesReview): void {
  const { candidate } = review;
  const evidenceText = candidate.evidence.map((evidence) => `${evidence.source}: ${evidence.detail}`).join('; ');
  if (candidate.phase === 'non-contrast') recordFailure(review, 'contrast', 'non-contrast', `non-contrast (${evidenceText})`);
  else if (candidate.phase === 'delayed') recordFailure(review, 'not-delayed', 'delayed-phase', `delayed phase (${evidenceText})`);
  else if (candidate.phase === 'unknown') recordFailure(review, 'phase-known', 'phase-undetermined', 'no phase from description, timing or images');
  else if (candidate.phase === 'contradictory') recordFailure(review, 'phase-known', 'phase-contradictory', `the evidence disagrees (${evidenceText})`);
  else if (candidate.suspect) recordFailure(review, 'phase-known', 'phase-ambiguous', 'another acquisition claims the same phase and the other phase is missing');
  else {
    recordPass(review, 'phase', `${candidate.phase === 'arterial' ? 'arterial' : 'portal venous'} (${evidenceText})`);
    candidate.eligible = true;
  }
}
