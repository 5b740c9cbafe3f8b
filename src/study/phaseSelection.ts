/**
 * Phase selection: from the series summaries of one study (and, when metadata cannot decide, image
 * evidence), pick exactly one pancreatic/arterial and one portal-venous axial CT series, or say
 * precisely why not. Pure and explained: every series considered becomes a candidate with the
 * rules it passed and failed and a score, in the manner of OHIF's hanging-protocol matching
 * (`{score, details: {passed, failed}}`).
 *
 * Stages (docs/phase-selection.md has the user-facing version):
 *  1. Gates, in order; the first failed one is the candidate's `failureCode`: CT modality; CT Image
 *     Storage SOP class; not a dose report; not a localizer; body part; axial; not a
 *     reformat/projection; one frame of reference; enough slices; thin enough; a regular grid
 *     (volumePlan.ts on the metadata: gaps, duplicates, tilt, spacing).
 *  2. Phase from metadata: SeriesDescription patterns; the delay from ContrastBolusStartTime to the
 *     first AcquisitionTime (or SeriesTime); failing both, the order of two contrast acquisitions.
 *     Agreeing sources give the phase; disagreeing ones make it `contradictory`.
 *  3. Study-level doubt: when one phase is missing and the other is claimed by several distinct
 *     acquisitions (e.g. two series both called "venous"), those claims are `suspect`.
 *  4. Image evidence (aorta vs portal vein HU), when given, decides unknown, contradictory and
 *     suspect series. The caller fetches it for the series listed in `needsImageEvidence`.
 *  5. The best arterial and venous series (by score) on one frame of reference.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import type { ReasonCode } from '../errors';
import { planVolume } from './volumePlan';
import type { SeriesSummary } from './seriesSummary';
import type { SelectionRules } from './selectionRules';
import type { VesselPhase } from './vesselMeasurement';

export type Phase = 'arterial' | 'venous' | 'delayed' | 'non-contrast';
export type PhaseState = Phase | 'unknown' | 'contradictory';

export interface RuleResult {
  /** Stable rule id, e.g. `axial`, `description`. */
  rule: string;
  detail: string;
}

export interface PhaseEvidence {
  source: 'description' | 'timing' | 'relative-timing' | 'image';
  phase: Phase | 'inconclusive';
  detail: string;
}

/** Image evidence for one series, as the shell measured it. */
export interface ImageEvidence extends VesselPhase {
  seriesInstanceUID: string;
  slicesMeasured: number;
}

export interface Candidate {
  seriesInstanceUID: string;
  seriesNumber?: number;
  seriesDescription: string;
  modality?: string;
  instanceCount: number;
  sliceThicknessMm?: number;
  frameOfReferenceUID?: string;
  /** Phase after all evidence. */
  phase: PhaseState;
  /** Phase from metadata alone. */
  metadataPhase: PhaseState;
  evidence: PhaseEvidence[];
  /** Passed every gate and has a phase of interest. */
  eligible: boolean;
  /** First failed gate (a reason code), when not eligible. */
  failureCode?: ReasonCode;
  /** Another acquisition claims the same phase while the other phase is missing. */
  suspect: boolean;
  score: number;
  details: { passed: RuleResult[]; failed: RuleResult[] };
}

export interface ChosenSeries {
  seriesInstanceUID: string;
  seriesDescription: string;
  seriesNumber?: number;
  score: number;
  why: string[];
}

export interface PhaseSelection {
  analyzable: boolean;
  /** Stable reason code when not analyzable (docs/phase-selection.md lists them). */
  reasonCode?: ReasonCode;
  reason?: string;
  arterial: ChosenSeries | null;
  venous: ChosenSeries | null;
  candidates: Candidate[];
  /**
   * Series whose images would settle a phase (or show a thinner reconstruction of a chosen one);
   * the shell measures them and selects again. May be non-empty even when analyzable.
   */
  needsImageEvidence: string[];
}

interface CompiledPatterns {
  arterial: RegExp[];
  pancreatic: RegExp[];
  venous: RegExp[];
  delayed: RegExp[];
  nonContrast: RegExp[];
  localizer: RegExp[];
  reformat: RegExp[];
  doseReport: RegExp[];
}

function compile(rules: SelectionRules): CompiledPatterns {
  const c = (list: string[]): RegExp[] => list.map((source) => new RegExp(source, 'iu'));
  const p = rules.patterns;
  return {
    arterial: c(p.arterial),
    pancreatic: c(p.pancreatic),
    venous: c(p.venous),
    delayed: c(p.delayed),
    nonContrast: c(p.nonContrast),
    localizer: c(p.localizer),
    reformat: c(p.reformat),
    doseReport: c(p.doseReport),
  };
}

function firstMatch(patterns: RegExp[], text: string): string | undefined {
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return m[0];
  }
  return undefined;
}

/** The phase a series description names, if any (exported for tests and docs). */
export function phaseFromDescription(description: string, rules: SelectionRules): { phase?: Phase | 'contradictory'; detail: string } {
  return describe(description, compile(rules));
}

function describe(description: string, p: CompiledPatterns): { phase?: Phase | 'contradictory'; detail: string } {
  const text = description.normalize('NFKC');
  if (text.trim() === '') return { detail: 'no SeriesDescription' };
  // Non-contrast and delayed terms win over phase terms: "venous delayed" is delayed.
  const nc = firstMatch(p.nonContrast, text);
  if (nc !== undefined) return { phase: 'non-contrast', detail: `"${description}" names a non-contrast series ("${nc}")` };
  const delayed = firstMatch(p.delayed, text);
  if (delayed !== undefined) return { phase: 'delayed', detail: `"${description}" names a delayed phase ("${delayed}")` };
  const art = firstMatch(p.arterial, text);
  const ven = firstMatch(p.venous, text);
  if (art !== undefined && ven !== undefined) {
    return { phase: 'contradictory', detail: `"${description}" names both an arterial ("${art}") and a venous ("${ven}") phase` };
  }
  if (art !== undefined) return { phase: 'arterial', detail: `"${description}" names the arterial phase ("${art}")` };
  if (ven !== undefined) return { phase: 'venous', detail: `"${description}" names the portal-venous phase ("${ven}")` };
  return { detail: `"${description}" names no phase` };
}

function delaySeconds(s: SeriesSummary): { seconds: number; from: string } | undefined {
  const start = s.contrast.startSeconds;
  if (start === undefined) return undefined;
  const at = s.acquisitionSeconds ?? s.seriesSeconds;
  if (at === undefined) return undefined;
  let d = at - start;
  // Past midnight between injection and scan.
  if (d < -12 * 3600) d += 24 * 3600;
  return { seconds: Math.round(d * 10) / 10, from: s.acquisitionSeconds !== undefined ? 'AcquisitionTime' : 'SeriesTime' };
}

function phaseFromTiming(s: SeriesSummary, rules: SelectionRules): PhaseEvidence | undefined {
  const delay = delaySeconds(s);
  if (delay === undefined) return undefined;
  const t = rules.timing;
  const d = delay.seconds;
  const what = `${delay.from} is ${d} s after ContrastBolusStartTime`;
  if (d < 0 && d > -3600) return { source: 'timing', phase: 'non-contrast', detail: `${delay.from} is ${-d} s before ContrastBolusStartTime` };
  if (d >= t.arterialSeconds[0] && d <= t.arterialSeconds[1]) {
    return { source: 'timing', phase: 'arterial', detail: `${what}: arterial window ${t.arterialSeconds[0]}-${t.arterialSeconds[1]} s` };
  }
  if (d >= t.venousSeconds[0] && d <= t.venousSeconds[1]) {
    return { source: 'timing', phase: 'venous', detail: `${what}: portal-venous window ${t.venousSeconds[0]}-${t.venousSeconds[1]} s` };
  }
  if (d >= t.delayedFromSeconds && d < 3600) return { source: 'timing', phase: 'delayed', detail: `${what}: delayed (>= ${t.delayedFromSeconds} s)` };
  return { source: 'timing', phase: 'inconclusive', detail: `${what}: outside every window` };
}

/** The angle, in degrees, between the slice normal and the patient's head-foot axis. */
function obliqueDegrees(o: number[]): number {
  const nz = o[0] * o[4] - o[1] * o[3];
  const nx = o[1] * o[5] - o[2] * o[4];
  const ny = o[2] * o[3] - o[0] * o[5];
  const len = Math.hypot(nx, ny, nz) || 1;
  return (Math.acos(Math.min(1, Math.abs(nz) / len)) * 180) / Math.PI;
}

function planeName(o: number[]): string {
  const n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]].map(Math.abs);
  if (n[2] >= n[0] && n[2] >= n[1]) return 'axial';
  return n[1] >= n[0] ? 'coronal' : 'sagittal';
}

const REFORMAT_IMAGE_TYPES = ['MPR', 'MIP', 'MINIP', 'REFORMATTED', 'PROJECTION IMAGE', 'VOLUME', 'CURVED', 'VR', 'VOLUME_RENDER', 'SCREEN SHOT'];

interface Work {
  s: SeriesSummary;
  c: Candidate;
  /** Gates passed (index of the first failure, or gates.length). */
  gateReached: number;
  gatesPassed: boolean;
  descriptionVote?: Phase | 'contradictory';
  timingVote?: Phase;
  thickness?: number;
  original: boolean;
  pancreaticWording: boolean;
  delay?: number;
  /** The image evidence that set the phase, when images (not metadata) decided it. */
  imageDecided?: ImageEvidence;
  /** Score parts: phase evidence (shared by an acquisition's recons) and reconstruction preference. */
  evidenceScore?: number;
  reconScore?: number;
}

/** Gate order; a study's reason is the failure of the candidate that got furthest. */
const GATES = [
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

const ROUTINE_GATES = new Set(['modality', 'sop-class', 'not-dose-report', 'not-localizer', 'body-part', 'not-reformat', 'single-frame-of-reference']);

function fmt(n: number | undefined, unit = ''): string {
  return n === undefined ? '?' : `${Math.round(n * 100) / 100}${unit}`;
}

/** Runs the gates of one series; records passed and failed rules on the candidate. */
function runGates(w: Work, rules: SelectionRules, p: CompiledPatterns): void {
  const { s, c } = w;
  const pass = (rule: string, detail: string): void => void c.details.passed.push({ rule, detail });
  let failed = false;
  const fail = (rule: string, code: ReasonCode, detail: string): void => {
    c.details.failed.push({ rule, detail });
    if (!failed) {
      failed = true;
      c.failureCode = code;
      w.gateReached = GATES.indexOf(rule as (typeof GATES)[number]);
    }
  };
  const description = s.seriesDescription.normalize('NFKC');

  if (s.modality === 'CT') pass('modality', 'modality CT');
  else fail('modality', 'not-ct', `modality ${s.modality ?? 'unknown'}, not CT`);
  if (failed) return;

  const classes = s.sopClassUIDs;
  if (classes.includes(SOP_CLASS.enhancedCtImageStorage) || s.hasFunctionalGroups || s.numberOfFrames > 1) {
    fail('sop-class', 'enhanced-multiframe-unsupported', 'Enhanced CT / multi-frame images: the node reads single-frame CT Image Storage series only');
  } else if (classes.length > 0 && classes.some((u) => u !== SOP_CLASS.ctImageStorage)) {
    fail('sop-class', 'unsupported-sop-class', `SOP class ${classes.filter((u) => u !== SOP_CLASS.ctImageStorage).join(', ')} is not CT Image Storage`);
  } else {
    pass('sop-class', classes.length > 0 ? 'CT Image Storage' : 'SOP class not reported (assumed CT Image Storage)');
  }

  const dose = firstMatch(p.doseReport, description);
  if (dose !== undefined) fail('not-dose-report', 'dose-report', `"${s.seriesDescription}" is a dose report or screen capture ("${dose}")`);
  else pass('not-dose-report', 'not a dose report');

  const localizerType = s.imageTypes.some((t) => t.includes('LOCALIZER'));
  const localizerWord = firstMatch(p.localizer, description);
  if (localizerType || localizerWord !== undefined) {
    fail('not-localizer', 'localizer', localizerType ? 'ImageType LOCALIZER' : `"${s.seriesDescription}" is a localizer ("${localizerWord}")`);
  } else pass('not-localizer', 'not a localizer');

  const bodyPart = s.bodyPartExamined;
  if (bodyPart !== undefined && rules.limits.excludedBodyParts.map((b) => b.toUpperCase()).includes(bodyPart.replace(/[\s_]/g, ''))) {
    fail('body-part', 'wrong-body-part', `BodyPartExamined ${bodyPart} cannot show the pancreas`);
  } else pass('body-part', bodyPart === undefined ? 'BodyPartExamined not given' : `BodyPartExamined ${bodyPart}`);

  if (s.orientations.length > 1) {
    fail('axial', 'mixed-orientations', `${s.orientations.length} different orientations in one series`);
  } else if (s.orientations.length === 1) {
    const o = s.orientations[0];
    const deg = obliqueDegrees(o);
    if (planeName(o) !== 'axial' || deg > rules.limits.maxObliqueDegrees) {
      fail('axial', 'not-axial', `${planeName(o)} orientation (normal ${fmt(deg)} degrees from the head-foot axis; limit ${rules.limits.maxObliqueDegrees})`);
    } else pass('axial', `axial (normal ${fmt(deg)} degrees from the head-foot axis)`);
  } else if (s.imageTypes.some((t) => t.includes('AXIAL'))) {
    pass('axial', 'ImageType AXIAL (no ImageOrientationPatient)');
  } else {
    fail('axial', 'missing-geometry', 'no ImageOrientationPatient');
  }

  const reformatType = s.imageTypes.flat().find((v) => REFORMAT_IMAGE_TYPES.includes(v));
  const reformatWord = firstMatch(p.reformat, description);
  if (reformatType !== undefined || reformatWord !== undefined) {
    fail(
      'not-reformat',
      'derived-reformat',
      reformatType !== undefined ? `ImageType ${reformatType}: a reformat or projection` : `"${s.seriesDescription}" is a reformat or projection ("${reformatWord}")`,
    );
  } else pass('not-reformat', 'not a reformat or projection');

  if (s.frameOfReferenceUIDs.length > 1) {
    fail('single-frame-of-reference', 'mixed-frame-of-reference', `${s.frameOfReferenceUIDs.length} frames of reference in one series`);
  } else pass('single-frame-of-reference', s.frameOfReferenceUIDs.length === 1 ? 'one frame of reference' : 'FrameOfReferenceUID not reported');

  if (s.instanceCount < rules.limits.minSlices) {
    fail('enough-slices', 'too-few-slices', `${s.instanceCount} slices; at least ${rules.limits.minSlices} needed`);
  } else pass('enough-slices', `${s.instanceCount} slices`);

  const thickness = w.thickness;
  if (thickness !== undefined && thickness > rules.limits.maxSliceThicknessMm) {
    fail('thin-enough', 'too-thick', `slices ${fmt(thickness)} mm thick; at most ${rules.limits.maxSliceThicknessMm} mm`);
  } else pass('thin-enough', thickness === undefined ? 'SliceThickness not given' : `slices ${fmt(thickness)} mm thick`);

  if (s.hasMetadata && !failed) {
    const plan = planVolume(s.instances);
    if (plan.ok) {
      const g = plan.plan.geometry;
      pass('regular-grid', `${g.dims[0]}x${g.dims[1]}x${g.dims[2]} grid, ${fmt(g.spacing[2])} mm between slices`);
    } else {
      for (const problem of plan.problems) fail('regular-grid', problem.code, problem.message);
    }
  }
}

/** The metadata votes (description, timing) of one series. */
function metadataPhase(w: Work, rules: SelectionRules, p: CompiledPatterns): void {
  const { s, c } = w;
  const d = describe(s.seriesDescription, p);
  if (d.phase !== undefined) {
    w.descriptionVote = d.phase;
    if (d.phase !== 'contradictory') c.evidence.push({ source: 'description', phase: d.phase, detail: d.detail });
    else c.evidence.push({ source: 'description', phase: 'inconclusive', detail: d.detail });
  }
  w.pancreaticWording = firstMatch(p.pancreatic, s.seriesDescription.normalize('NFKC')) !== undefined;
  const timing = phaseFromTiming(s, rules);
  if (timing !== undefined) {
    c.evidence.push(timing);
    if (timing.phase !== 'inconclusive') w.timingVote = timing.phase;
    w.delay = delaySeconds(s)?.seconds;
  }
  const votes = [w.descriptionVote, w.timingVote].filter((v): v is Phase | 'contradictory' => v !== undefined);
  if (votes.length === 0) c.metadataPhase = 'unknown';
  else if (votes.includes('contradictory') || new Set(votes).size > 1) c.metadataPhase = 'contradictory';
  else c.metadataPhase = votes[0];
  c.phase = c.metadataPhase;
}

/** Whether two series are one acquisition (e.g. thick and thin reconstructions of one scan). */
function sameAcquisition(a: Work, b: Work, rules: SelectionRules): boolean {
  const ta = a.s.acquisitionSeconds;
  const tb = b.s.acquisitionSeconds;
  if (ta !== undefined && tb !== undefined) return Math.abs(ta - tb) <= rules.timing.sameAcquisitionSeconds;
  // Without times: two series reconstructed alike (same thickness and slice count) are two scans;
  // different reconstructions are presumed to be of one scan.
  return !(a.thickness === b.thickness && a.s.instanceCount === b.s.instanceCount);
}

function distinctAcquisitions(ws: Work[], rules: SelectionRules): number {
  const groups: Work[] = [];
  for (const w of ws) if (!groups.some((g) => sameAcquisition(g, w, rules))) groups.push(w);
  return groups.length;
}

/**
 * Without ContrastBolusStartTime and descriptions, two contrast acquisitions a plausible gap apart
 * are ordered: earlier arterial, later venous. Only series that carry a contrast agent take part,
 * so that a plain scan before the injection cannot be taken for the arterial phase.
 */
function relativeTiming(ws: Work[], rules: SelectionRules): void {
  const open = ws.filter(
    (w) =>
      w.gatesPassed &&
      w.c.metadataPhase === 'unknown' &&
      w.s.acquisitionSeconds !== undefined &&
      (w.s.contrast.agent !== undefined || w.s.contrast.agentCodes.length > 0),
  );
  const decided = ws.filter((w) => w.gatesPassed && (w.c.metadataPhase === 'arterial' || w.c.metadataPhase === 'venous'));
  if (open.length < 2 || decided.length > 0) return;
  const times = [...new Set(open.map((w) => w.s.acquisitionSeconds!))].sort((a, b) => a - b);
  // Cluster times into acquisitions.
  const clusters: number[][] = [];
  for (const t of times) {
    const last = clusters[clusters.length - 1];
    if (last && t - last[last.length - 1] <= rules.timing.sameAcquisitionSeconds) last.push(t);
    else clusters.push([t]);
  }
  if (clusters.length !== 2) return;
  const gap = Math.round((clusters[1][0] - clusters[0][clusters[0].length - 1]) * 10) / 10;
  const [lo, hi] = rules.timing.relativeGapSeconds;
  if (gap < lo || gap > hi) return;
  for (const w of open) {
    const early = clusters[0].includes(w.s.acquisitionSeconds!);
    const phase: Phase = early ? 'arterial' : 'venous';
    w.c.evidence.push({
      source: 'relative-timing',
      phase,
      detail: `no bolus start time or phase name; contrast acquisitions ${gap} s apart, this one is the ${early ? 'earlier' : 'later'}`,
    });
    w.c.metadataPhase = phase;
    w.c.phase = phase;
  }
}

function applyImageEvidence(w: Work, e: ImageEvidence): void {
  const { c } = w;
  c.evidence.push({ source: 'image', phase: e.phase, detail: e.detail });
  if (e.phase === 'inconclusive') return;
  const metadataDecided = c.metadataPhase !== 'unknown' && c.metadataPhase !== 'contradictory';
  if (!metadataDecided || c.suspect) {
    c.phase = e.phase;
    c.suspect = false;
    w.imageDecided = e;
  } else if (c.metadataPhase !== e.phase) {
    c.phase = 'contradictory';
  }
}

/** The vessel that shows a phase best: the aorta for the arterial phase, the portal vein for the venous. */
function phaseVessel(phase: 'arterial' | 'venous', e: ImageEvidence): number | undefined {
  return phase === 'arterial' ? e.aortaHu : e.portalVeinHu;
}

/**
 * Image-decided phases checked against each other. Reconstructions of one acquisition show the
 * same vessel HU; a misread scan (a non-contrast or delayed one measured as arterial) does not.
 * Per phase, the reference is the series whose metadata names the phase and whose images confirm
 * it, else the image-decided series with the brightest vessel (aorta for arterial, portal vein for
 * venous). Image-decided series whose vessel is more than `margin` below the reference lose the
 * phase. Those left that are distinct acquisitions by AcquisitionTime, with no metadata reference,
 * are too close to call: all become suspect.
 */
function resolveImageConflicts(open: Work[], rules: SelectionRules, evidence: Map<string, ImageEvidence>, margin = 1.15): void {
  for (const phase of ['arterial', 'venous'] as const) {
    const decided = open.filter((w) => w.imageDecided !== undefined && w.c.phase === phase);
    if (decided.length === 0) continue;
    const vesselOf = (w: Work): number => {
      const e = w.imageDecided ?? evidence.get(w.s.seriesInstanceUID);
      return (e && phaseVessel(phase, e)) ?? Number.NEGATIVE_INFINITY;
    };
    const confirmed = open.filter(
      (w) => w.imageDecided === undefined && w.c.phase === phase && evidence.get(w.s.seriesInstanceUID)?.phase === phase,
    );
    const referenceSeries = [...(confirmed.length > 0 ? confirmed : decided)].sort((a, b) => vesselOf(b) - vesselOf(a))[0];
    const reference = vesselOf(referenceSeries);
    const vessel = phase === 'arterial' ? 'aorta' : 'portal vein';
    const kept: Work[] = [];
    for (const w of decided) {
      if (vesselOf(w) * margin < reference) {
        w.c.phase = 'contradictory';
        w.c.evidence.push({
          source: 'image',
          phase: 'inconclusive',
          detail: `another series shows the ${phase} phase clearly better (${vessel} ${reference} HU against ${vesselOf(w)} HU here)`,
        });
      } else kept.push(w);
    }
    const timed = kept.filter((w) => w.s.acquisitionSeconds !== undefined);
    if (confirmed.length === 0 && timed.length === kept.length && distinctAcquisitions(kept, rules) > 1) {
      for (const w of kept) w.c.suspect = true;
    }
  }
}

/** Final gates after the phase is known, and the score. */
function finishCandidate(w: Work, rules: SelectionRules): void {
  const { c } = w;
  const pass = (rule: string, detail: string): void => void c.details.passed.push({ rule, detail });
  const fail = (rule: (typeof GATES)[number], code: ReasonCode, detail: string): void => {
    c.details.failed.push({ rule, detail });
    if (c.failureCode === undefined) {
      c.failureCode = code;
      w.gateReached = GATES.indexOf(rule);
    }
  };
  if (!w.gatesPassed) return;
  const evidenceText = c.evidence.map((e) => `${e.source}: ${e.detail}`).join('; ');
  if (c.phase === 'non-contrast') fail('contrast', 'non-contrast', `non-contrast (${evidenceText})`);
  else if (c.phase === 'delayed') fail('not-delayed', 'delayed-phase', `delayed phase (${evidenceText})`);
  else if (c.phase === 'unknown') fail('phase-known', 'phase-undetermined', 'no phase from description, timing or images');
  else if (c.phase === 'contradictory') fail('phase-known', 'phase-contradictory', `the evidence disagrees (${evidenceText})`);
  else if (c.suspect) fail('phase-known', 'phase-ambiguous', 'another acquisition claims the same phase and the other phase is missing');
  else {
    pass('phase', `${c.phase === 'arterial' ? 'arterial' : 'portal venous'} (${evidenceText})`);
    c.eligible = true;
  }
  if (!c.eligible) return;
  // Score: evidence strength (of the acquisition), then reconstruction preference; explicit weights.
  let evidence = 0;
  for (const e of c.evidence) {
    if (e.phase !== c.phase) continue;
    evidence += e.source === 'timing' || e.source === 'image' ? 3 : e.source === 'description' ? 2 : 1;
  }
  if (c.phase === 'arterial' && w.pancreaticWording) {
    evidence += 1;
    pass('preferred-wording', 'named as the pancreatic / late arterial phase');
  }
  if (w.delay !== undefined) {
    const core = c.phase === 'arterial' ? rules.timing.pancreaticCoreSeconds : c.phase === 'venous' ? rules.timing.venousCoreSeconds : undefined;
    if (core && w.delay >= core[0] && w.delay <= core[1]) {
      evidence += 1;
      pass('core-timing', `delay ${w.delay} s inside the core window ${core[0]}-${core[1]} s`);
    }
  }
  let recon = 0;
  if (w.original) {
    recon += 2;
    pass('original-primary', 'ImageType ORIGINAL\\PRIMARY');
  }
  if (w.thickness !== undefined) {
    if (w.thickness <= rules.preference.thinMm) {
      recon += 2;
      pass('thin-reconstruction', `${fmt(w.thickness)} mm <= ${rules.preference.thinMm} mm`);
    } else if (w.thickness <= 2 * rules.preference.thinMm) {
      recon += 1;
      pass('thin-reconstruction', `${fmt(w.thickness)} mm <= ${2 * rules.preference.thinMm} mm`);
    }
  }
  w.evidenceScore = evidence;
  w.reconScore = recon;
  c.score = evidence + recon;
}

/**
 * Reconstructions of one acquisition share its phase evidence: a thin series named only by its
 * kernel is as much the arterial phase as the 5 mm series named "ART" beside it. So each eligible
 * series scores the best evidence of its acquisition plus its own reconstruction preference, and
 * among recons of one acquisition the thinner ORIGINAL one wins.
 */
function shareAcquisitionEvidence(works: Work[], rules: SelectionRules): void {
  const eligible = works.filter((w) => w.c.eligible);
  for (const w of eligible) {
    const peers = eligible.filter((o) => o !== w && o.c.phase === w.c.phase && sameAcquisition(o, w, rules));
    const best = peers.reduce<Work | undefined>((a, o) => ((o.evidenceScore ?? 0) > (a?.evidenceScore ?? w.evidenceScore ?? 0) ? o : a), undefined);
    if (best === undefined) continue;
    w.c.score = (best.evidenceScore ?? 0) + (w.reconScore ?? 0);
    w.c.details.passed.push({ rule: 'same-acquisition', detail: `another reconstruction of this acquisition, series ${best.s.seriesNumber ?? '?'} "${best.s.seriesDescription}", carries stronger phase evidence` });
  }
}

/** Best first: score, then thinner, then more slices, then series number, then UID. */
function rank(a: Work, b: Work): number {
  return (
    b.c.score - a.c.score ||
    (a.thickness ?? 99) - (b.thickness ?? 99) ||
    b.s.instanceCount - a.s.instanceCount ||
    (a.s.seriesNumber ?? 1e9) - (b.s.seriesNumber ?? 1e9) ||
    a.s.seriesInstanceUID.localeCompare(b.s.seriesInstanceUID)
  );
}

function chosen(w: Work): ChosenSeries {
  const out: ChosenSeries = {
    seriesInstanceUID: w.s.seriesInstanceUID,
    seriesDescription: w.s.seriesDescription,
    score: w.c.score,
    // The generic gates (modality, SOP class, ...) passed for every eligible series; keep what tells this one apart.
    why: w.c.details.passed.filter((r) => !ROUTINE_GATES.has(r.rule)).map((r) => `${r.rule}: ${r.detail}`),
  };
  if (w.s.seriesNumber !== undefined) out.seriesNumber = w.s.seriesNumber;
  return out;
}

function label(w: Work): string {
  return `series ${w.s.seriesNumber ?? '?'} "${w.s.seriesDescription}"`;
}

/** Study-level reason codes for the furthest gate failure when no series is eligible. */
const STUDY_REASON: Partial<Record<ReasonCode, ReasonCode>> = {
  'not-ct': 'no-ct-series',
  localizer: 'localizer-only',
  'non-contrast': 'no-contrast-series',
  'delayed-phase': 'single-phase',
  'phase-ambiguous': 'ambiguous-phases',
  'phase-contradictory': 'ambiguous-phases',
};

/**
 * Selects the arterial and portal-venous series of a study. `imageEvidence` holds measurements
 * for some series (see `needsImageEvidence` of a first call without it).
 */
export function selectPhases(summaries: SeriesSummary[], rules: SelectionRules, imageEvidence: ImageEvidence[] = []): PhaseSelection {
  const p = compile(rules);
  const works: Work[] = summaries.map((s) => {
    const thickness = s.sliceThicknesses.length > 0 ? Math.min(...s.sliceThicknesses) : undefined;
    const c: Candidate = {
      seriesInstanceUID: s.seriesInstanceUID,
      seriesDescription: s.seriesDescription,
      instanceCount: s.instanceCount,
      phase: 'unknown',
      metadataPhase: 'unknown',
      evidence: [],
      eligible: false,
      suspect: false,
      score: 0,
      details: { passed: [], failed: [] },
    };
    if (s.seriesNumber !== undefined) c.seriesNumber = s.seriesNumber;
    if (s.modality !== undefined) c.modality = s.modality;
    if (thickness !== undefined) c.sliceThicknessMm = thickness;
    if (s.frameOfReferenceUIDs.length === 1) c.frameOfReferenceUID = s.frameOfReferenceUIDs[0];
    const original = s.imageTypes.length > 0 && s.imageTypes.every((t) => t[0] === 'ORIGINAL' && t[1] === 'PRIMARY');
    return { s, c, gateReached: GATES.length, gatesPassed: false, thickness, original, pancreaticWording: false };
  });

  for (const w of works) {
    runGates(w, rules, p);
    w.gatesPassed = w.c.failureCode === undefined;
    if (w.s.modality === 'CT') metadataPhase(w, rules, p);
  }
  relativeTiming(works, rules);

  // Study-level doubt: one phase missing, the other claimed by several distinct acquisitions.
  const open = works.filter((w) => w.gatesPassed);
  const claiming = (phase: Phase): Work[] => open.filter((w) => w.c.metadataPhase === phase);
  for (const [phase, other] of [
    ['arterial', 'venous'],
    ['venous', 'arterial'],
  ] as const) {
    const mine = claiming(phase);
    if (claiming(other).length === 0 && distinctAcquisitions(mine, rules) > 1) for (const w of mine) w.c.suspect = true;
  }

  const evidenceBySeries = new Map(imageEvidence.map((e) => [e.seriesInstanceUID, e]));
  for (const w of open) {
    const e = evidenceBySeries.get(w.s.seriesInstanceUID);
    if (e !== undefined) applyImageEvidence(w, e);
  }
  resolveImageConflicts(open, rules, evidenceBySeries);
  for (const w of works) finishCandidate(w, rules);
  shareAcquisitionEvidence(works, rules);

  const arterial = works.filter((w) => w.c.eligible && w.c.phase === 'arterial').sort(rank);
  const venous = works.filter((w) => w.c.eligible && w.c.phase === 'venous').sort(rank);
  const unresolved = open.filter((w) => !w.c.eligible && (w.c.failureCode === 'phase-undetermined' || w.c.failureCode === 'phase-contradictory' || w.c.failureCode === 'phase-ambiguous'));
  const unmeasured = (w: Work): boolean => !evidenceBySeries.has(w.s.seriesInstanceUID);
  let needsImageEvidence: string[];
  if (arterial.length > 0 && venous.length > 0) {
    // Both found. A thinner series of unknown phase may be a better reconstruction of the same
    // acquisition: measure it, and the chosen one as its reference (resolveImageConflicts).
    const wanted = new Set<Work>();
    for (const best of [arterial[0], venous[0]]) {
      const thinner = unresolved.filter((w) => unmeasured(w) && (w.thickness ?? 99) < (best.thickness ?? 99));
      if (thinner.length === 0) continue;
      for (const w of thinner) wanted.add(w);
      if (unmeasured(best)) wanted.add(best);
    }
    needsImageEvidence = [...wanted].map((w) => w.s.seriesInstanceUID);
  } else {
    needsImageEvidence = unresolved.filter(unmeasured).map((w) => w.s.seriesInstanceUID);
  }

  const candidates = works.map((w) => w.c);
  const result = (reasonCode: ReasonCode, reason: string): PhaseSelection => ({
    analyzable: false,
    reasonCode,
    reason,
    arterial: arterial.length > 0 ? chosen(arterial[0]) : null,
    venous: venous.length > 0 ? chosen(venous[0]) : null,
    candidates,
    needsImageEvidence,
  });

  if (summaries.length === 0) return result('study-not-found', 'QIDO-RS found no series: the study is not in the PACS (or not visible to the node)');
  if (!works.some((w) => w.s.modality === 'CT')) {
    const modalities = [...new Set(works.map((w) => w.s.modality ?? '?'))].join(', ');
    return result('no-ct-series', `the study has no CT series (modalities: ${modalities})`);
  }

  if (arterial.length > 0 && venous.length > 0) {
    let best: [Work, Work] | undefined;
    for (const a of arterial) {
      for (const v of venous) {
        const sameFrame = a.c.frameOfReferenceUID === undefined || v.c.frameOfReferenceUID === undefined || a.c.frameOfReferenceUID === v.c.frameOfReferenceUID;
        if (rules.requireSameFrameOfReference && !sameFrame) continue;
        if (best === undefined || a.c.score + v.c.score > best[0].c.score + best[1].c.score) best = [a, v];
      }
    }
    if (best === undefined) {
      return {
        ...result('mixed-frame-of-reference', 'the arterial and portal-venous series have different FrameOfReferenceUIDs; their patient coordinates cannot be compared'),
        arterial: chosen(arterial[0]),
        venous: chosen(venous[0]),
      };
    }
    return { analyzable: true, arterial: chosen(best[0]), venous: chosen(best[1]), candidates, needsImageEvidence };
  }

  // Something is missing: explain the most specific reason.
  const missing: Phase[] = arterial.length === 0 && venous.length === 0 ? ['arterial', 'venous'] : arterial.length === 0 ? ['arterial'] : ['venous'];
  const phaseName = (ph: Phase): string => (ph === 'arterial' ? 'pancreatic/arterial' : 'portal-venous');

  if (unresolved.length > 0) {
    const ambiguous = unresolved.filter((w) => w.c.failureCode === 'phase-ambiguous' || w.c.failureCode === 'phase-contradictory');
    const list = unresolved.map(label).join(', ');
    const tail = needsImageEvidence.length > 0 ? '; image evidence (aorta vs portal vein) is needed' : '; image evidence did not settle it';
    if (ambiguous.length > 0) {
      return result('ambiguous-phases', `cannot tell which series is the ${missing.map(phaseName).join(' and the ')} phase: ${ambiguous.map((w) => `${label(w)} (${w.c.details.failed[w.c.details.failed.length - 1]?.detail})`).join('; ')}${tail}`);
    }
    return result('phase-undetermined', `no description, timing or image evidence gives the phase of ${list}${tail}`);
  }

  // A series that names the missing phase but failed a gate is the most useful reason.
  const failedOfMissing = works
    .filter((w) => w.s.modality === 'CT' && !w.gatesPassed && missing.some((ph) => w.c.metadataPhase === ph))
    .sort((a, b) => b.gateReached - a.gateReached);
  if (failedOfMissing.length > 0) {
    const w = failedOfMissing[0];
    const detail = w.c.details.failed[0]?.detail ?? '';
    return result(w.c.failureCode!, `the ${phaseName(w.c.metadataPhase as Phase)} ${label(w)} cannot be used: ${detail}`);
  }

  if (missing.length === 1) {
    const found = missing[0] === 'arterial' ? venous[0] : arterial[0];
    return result('single-phase', `only the ${phaseName(missing[0] === 'arterial' ? 'venous' : 'arterial')} phase was found (${label(found)}); no ${phaseName(missing[0])} series`);
  }

  // Nothing eligible: the failure of the candidate that got furthest through the gates.
  const ct = works.filter((w) => w.s.modality === 'CT').sort((a, b) => b.gateReached - a.gateReached);
  const furthest = ct[0];
  const code = furthest.c.failureCode ?? 'no-usable-series';
  const studyCode = STUDY_REASON[code] ?? code;
  const detail = furthest.c.details.failed[0]?.detail ?? '';
  const messages: Record<string, string> = {
    'localizer-only': 'the study holds only localizer (scout) images',
    'no-contrast-series': `no contrast-enhanced series: ${ct.filter((w) => w.c.failureCode === 'non-contrast').map(label).join(', ')} ${ct.length > 1 ? 'are' : 'is'} non-contrast`,
    'single-phase': `only a delayed phase: ${label(furthest)}`,
  };
  return result(studyCode, messages[studyCode] ?? `no usable series; the best, ${label(furthest)}, fails: ${detail}`);
}
