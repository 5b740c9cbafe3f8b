/**
 * The figures of one cohort of `tsr-node evaluate` (one centre profile, or all profiles pooled)
 * from its per-study cases. Pure.
 *
 * AUCs, ECE, sensitivity and specificity are computed over the studies the node analysed (a
 * refused study has no prediction); the oracle AUCs over the same studies, so the comparison is
 * fair, and over all of them (`oracleAucAll`). A refused study counts as a localiser miss. Every
 * synthetic study holds one tumour, so the localiser's rates are over all studies generated.
 */
import type { EvaluationCase, ModelRole } from './evaluationCase';
import { bootstrapAucs, differenceInterval, eceSamplingFloor, expectedCalibrationError, operatingPoint, quantile } from './metrics';
import { rocAuc, rocCurve, type RocPoint } from '../statistics/roc';

/** The goals (issue 4), checked on every evaluation. */
export const GOALS = {
  fusedWithinOracle: 0.03,
  fusedAboveSingle: 0.03,
  maxEce: 0.05,
  minLocaliserHitRate: 0.95,
  minCount: 400,
} as const;

/** Tumours below this greatest diameter (mm) are the ones the localiser misses; reported apart. */
export const SMALL_TUMOUR_MM = 20;

export interface FailedStudy {
  seed: number;
  error: string;
  /** The centre profile the study was generated with. */
  profile?: string;
}

export interface LocaliserFigures {
  /** Venous centre inside the tumour, over all generated studies (refused = miss). */
  hitRate: number;
  arterialHitRate: number;
  /** Hit rate (refused = miss) of the tumours under SMALL_TUMOUR_MM; null when the cohort has none. */
  smallTumourHitRate: number | null;
  smallTumours: number;
  /** Studies the node refused (it found no tumour), of all generated studies (each holds a tumour). */
  refused: { n: number; rate: number };
  /** A result given, but its venous centre outside the tumour: confident about the wrong place. */
  wrongPlace: { n: number; rate: number };
  medianVenousErrorMm: number;
  /** Hit rate (refused = miss) by the generated tumour's greatest diameter. */
  hitRateBySize: Record<string, { n: number; hitRate: number }>;
  medianArterialErrorMm: number;
  arterialRefinedRate: number;
  medianConfidence: number;
  /** The pancreas-first cascade's figures; absent for a single-stage localiser. */
  cascade?: CascadeFigures;
}

/** A mean and median over the studies that have the figure. */
export interface Summary {
  n: number;
  mean: number;
  median: number;
}

/** The cascade's figures of a cohort (docs/model-card.md, "Localisation: two stages"). */
export interface CascadeFigures {
  /** Stage 1 mask vs the true pancreas on the coarse grid, over the studies stage 1 ran on. */
  pancreasDice: Summary;
  /** Stage 2's venous tumour component vs the true tumour on the ROI grid (0 without a candidate), over the studies stage 2 ran on. */
  tumourDice: Summary;
  /** Studies where stage 2 gave a candidate (refused or not), and how many of those candidates lie in the tumour. */
  candidates: number;
  candidateInsideRate: number | null;
  /** ECE of the localisation confidence against insideTumour, over the studies with a candidate; null without any. */
  confidenceEce: number | null;
}

/** The sizes of the venous volumes the node assembled (columns, slices, slice spacing): [smallest, largest]. */
export interface ImageSizeRange {
  columns: [number, number];
  slices: [number, number];
  sliceSpacingMm: [number, number];
}

export interface CohortFigures {
  /** Studies generated. */
  n: number;
  /** Studies the node analysed (not refused, not failed). */
  nAnalysed: number;
  refused: Record<string, number>;
  failed: FailedStudy[];
  prevalenceHigh: number;
  auc: Record<ModelRole, number>;
  oracleAuc: Record<ModelRole, number>;
  oracleAucAll: Record<ModelRole, number>;
  /** AUC with crops at the ground-truth centres instead of the localiser's. */
  aucAtTrueCentre: Record<ModelRole, number>;
  auc95ci: Record<ModelRole, [number, number]>;
  oracleAuc95ci: Record<ModelRole, [number, number]>;
  /** Paired bootstrap intervals of AUC differences. */
  aucDifference95ci: { fusedMinusArterial: [number, number]; fusedMinusVenous: [number, number]; oracleFusedMinusFused: [number, number] };
  /** Expected calibration error of the fused model (10 equal-width bins). */
  ece: number;
  eceByModel: Record<ModelRole, number>;
  /** The fused ECE a perfectly calibrated model would show on this cohort, from sampling alone (mean and 95th percentile). */
  eceSamplingFloor: { mean: number; p95: number };
  /** At the fused model's threshold, positive class = high TSR. */
  sensitivity: number;
  specificity: number;
  operatingPoints: Record<ModelRole, { threshold: number; sensitivity: number; specificity: number }>;
  localiser: LocaliserFigures;
  /** The assembled venous volumes; absent when no case recorded its size. */
  imageSizes?: ImageSizeRange;
  goals: Record<string, { target: string; value: number; met: boolean }>;
  timing: { seconds: number; medianAnalysisMs: number };
}

export interface CohortInput {
  cases: readonly EvaluationCase[];
  failed: readonly FailedStudy[];
  thresholds: Record<ModelRole, number>;
  bootstrap: { replicates: number; seed: number };
  seconds: number;
}

export type CohortCurves = Record<ModelRole | 'oracleFused', RocPoint[]>;

const median = (xs: number[]): number => (xs.length === 0 ? Number.NaN : quantile([...xs].sort((a, b) => a - b), 0.5));
export const byRole = <T>(f: (role: ModelRole) => T): Record<ModelRole, T> => ({ fused: f('fused'), arterial: f('arterial'), venous: f('venous') });

/** The studies with a prediction; throws when AUCs cannot be computed on them. */
function analysedCases(all: readonly EvaluationCase[]): EvaluationCase[] {
  const analysed = all.filter((c) => c.analysed && c.probabilities && c.atTrueCentre);
  if (analysed.length === 0) throw new Error('no study was analysed: nothing to evaluate');
  const positives = analysed.map((c) => c.label === 'high');
  if (positives.every(Boolean) || !positives.some(Boolean)) throw new Error('the analysed studies hold one class only: AUC is undefined');
  return analysed;
}

export function cohortFigures(input: CohortInput): { figures: CohortFigures; curves: CohortCurves } {
  const all = input.cases;
  const analysed = analysedCases(all);
  const positives = analysed.map((c) => c.label === 'high');
  const scores = byRole((role) => analysed.map((c) => c.probabilities![role]));
  const oracle = byRole((role) => analysed.map((c) => c.oracle[role]));
  const boot = bootstrapAucs(
    { fused: scores.fused, arterial: scores.arterial, venous: scores.venous, oracleFused: oracle.fused, oracleArterial: oracle.arterial, oracleVenous: oracle.venous },
    positives,
    input.bootstrap,
  );
  const auc = byRole((role) => rocAuc(scores[role], positives));
  const oracleAuc = byRole((role) => rocAuc(oracle[role], positives));
  const allPositives = all.map((c) => c.label === 'high');
  const withTrue = all.filter((c) => c.atTrueCentre);
  const operatingPoints = byRole((role) => {
    const op = operatingPoint(scores[role], positives, input.thresholds[role]);
    return { threshold: op.threshold, sensitivity: op.sensitivity, specificity: op.specificity };
  });
  const eceByModel = byRole((role) => expectedCalibrationError(scores[role], positives));
  const total = all.length + input.failed.length;
  const localiser = localiserFigures(all, total);
  const figures: CohortFigures = {
    n: total,
    nAnalysed: analysed.length,
    refused: refusalCounts(all),
    failed: [...input.failed],
    prevalenceHigh: positives.filter(Boolean).length / positives.length,
    auc,
    oracleAuc,
    oracleAucAll: byRole((role) => rocAuc(all.map((c) => c.oracle[role]), allPositives)),
    aucAtTrueCentre: byRole((role) => rocAuc(withTrue.map((c) => c.atTrueCentre![role]), withTrue.map((c) => c.label === 'high'))),
    auc95ci: byRole((role) => boot.intervals[role]),
    oracleAuc95ci: { fused: boot.intervals.oracleFused, arterial: boot.intervals.oracleArterial, venous: boot.intervals.oracleVenous },
    aucDifference95ci: {
      fusedMinusArterial: differenceInterval(boot.replicates.fused, boot.replicates.arterial),
      fusedMinusVenous: differenceInterval(boot.replicates.fused, boot.replicates.venous),
      oracleFusedMinusFused: differenceInterval(boot.replicates.oracleFused, boot.replicates.fused),
    },
    ece: eceByModel.fused,
    eceByModel,
    eceSamplingFloor: eceSamplingFloor(scores.fused),
    sensitivity: operatingPoints.fused.sensitivity,
    specificity: operatingPoints.fused.specificity,
    operatingPoints,
    localiser,
    goals: goalsOf(auc, oracleAuc, eceByModel.fused, localiser.hitRate, total),
    timing: { seconds: input.seconds, medianAnalysisMs: median(analysed.map((c) => c.analysisMs ?? Number.NaN).filter(Number.isFinite)) },
  };
  const imageSizes = imageSizeRange(all);
  if (imageSizes) figures.imageSizes = imageSizes;
  const curves = { ...byRole((role) => rocCurve(scores[role], positives)), oracleFused: rocCurve(oracle.fused, positives) };
  return { figures, curves };
}

function refusalCounts(all: readonly EvaluationCase[]): Record<string, number> {
  const refused: Record<string, number> = {};
  for (const c of all) if (!c.analysed && c.refusal) refused[c.refusal.code] = (refused[c.refusal.code] ?? 0) + 1;
  return refused;
}

/** The localiser's figures; `total` counts failed studies too (a failed study is a miss). */
export function localiserFigures(all: readonly EvaluationCase[], total: number): LocaliserFigures {
  const loc = all.filter((c) => c.analysed && c.localisation).map((c) => c.localisation!);
  const refused = all.filter((c) => !c.analysed && c.refusal).length;
  const wrongPlace = loc.filter((l) => !l.venousHit).length;
  const small = all.filter((c) => c.tumour.diameterMm < SMALL_TUMOUR_MM);
  return {
    hitRate: loc.filter((l) => l.venousHit).length / total,
    arterialHitRate: loc.filter((l) => l.arterialHit).length / total,
    smallTumourHitRate: small.length ? small.filter((c) => c.analysed && c.localisation?.venousHit).length / small.length : null,
    smallTumours: small.length,
    refused: { n: refused, rate: refused / total },
    wrongPlace: { n: wrongPlace, rate: wrongPlace / total },
    medianVenousErrorMm: median(loc.map((l) => l.venousErrorMm)),
    medianArterialErrorMm: median(loc.map((l) => l.arterialErrorMm)),
    arterialRefinedRate: loc.filter((l) => l.arterialRefined).length / Math.max(1, loc.length),
    medianConfidence: median(loc.map((l) => l.confidence)),
    hitRateBySize: hitRateBySize(all),
    ...cascadePart(all),
  };
}

function summary(xs: number[]): Summary {
  return { n: xs.length, mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN, median: median(xs) };
}

/** The cascade's figures, when any study went through it. */
function cascadePart(all: readonly EvaluationCase[]): { cascade?: CascadeFigures } {
  const ran = all.filter((c) => c.cascade);
  if (ran.length === 0) return {};
  const withCandidate = all.filter((c) => c.localisation?.features && c.localisation.insideTumour !== undefined).map((c) => c.localisation!);
  const inside = withCandidate.map((l) => l.insideTumour === true);
  return {
    cascade: {
      pancreasDice: summary(ran.map((c) => c.cascade!.pancreasDice)),
      tumourDice: summary(ran.map((c) => c.cascade!.tumourDice).filter((d) => d !== undefined)),
      candidates: withCandidate.length,
      candidateInsideRate: withCandidate.length ? inside.filter(Boolean).length / withCandidate.length : null,
      confidenceEce: withCandidate.length ? expectedCalibrationError(withCandidate.map((l) => l.confidence), inside) : null,
    },
  };
}

function goalsOf(auc: Record<ModelRole, number>, oracleAuc: Record<ModelRole, number>, ece: number, hitRate: number, total: number): CohortFigures['goals'] {
  const bestSingle = Math.max(auc.arterial, auc.venous);
  return {
    fusedWithinOracle: { target: `oracle fused AUC - fused AUC <= ${GOALS.fusedWithinOracle}`, value: oracleAuc.fused - auc.fused, met: oracleAuc.fused - auc.fused <= GOALS.fusedWithinOracle },
    fusedAboveSingle: { target: `fused AUC - best single-phase AUC >= ${GOALS.fusedAboveSingle}`, value: auc.fused - bestSingle, met: auc.fused - bestSingle >= GOALS.fusedAboveSingle },
    ece: { target: `ECE <= ${GOALS.maxEce}`, value: ece, met: ece <= GOALS.maxEce },
    localiserHitRate: { target: `centre inside the tumour >= ${GOALS.minLocaliserHitRate}`, value: hitRate, met: hitRate >= GOALS.minLocaliserHitRate },
    cohortSize: { target: `n >= ${GOALS.minCount}`, value: total, met: total >= GOALS.minCount },
  };
}

/** Size bands of the localiser breakdown: small tumours are the ones it misses. */
const SIZE_BANDS: ReadonlyArray<[string, number, number]> = [
  [`< ${SMALL_TUMOUR_MM} mm`, 0, SMALL_TUMOUR_MM],
  [`${SMALL_TUMOUR_MM}-30 mm`, SMALL_TUMOUR_MM, 30],
  ['>= 30 mm', 30, Infinity],
];

function hitRateBySize(cases: readonly EvaluationCase[]): Record<string, { n: number; hitRate: number }> {
  const out: Record<string, { n: number; hitRate: number }> = {};
  for (const [name, lo, hi] of SIZE_BANDS) {
    const band = cases.filter((c) => c.tumour.diameterMm >= lo && c.tumour.diameterMm < hi);
    if (band.length) out[name] = { n: band.length, hitRate: band.filter((c) => c.analysed && c.localisation?.venousHit).length / band.length };
  }
  return out;
}

function imageSizeRange(cases: readonly EvaluationCase[]): ImageSizeRange | undefined {
  const sizes = cases.map((c) => c.venousVolume).filter((v) => v !== undefined);
  if (sizes.length === 0) return undefined;
  const span = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)];
  return {
    columns: span(sizes.map((s) => s.columns)),
    slices: span(sizes.map((s) => s.slices)),
    sliceSpacingMm: span(sizes.map((s) => Math.round(s.sliceSpacingMm * 1000) / 1000)),
  };
}
