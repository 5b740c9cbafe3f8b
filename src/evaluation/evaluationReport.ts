/**
 * The figures of `tsr-node evaluate` (DIR/evaluation.json) from the per-study cases. Pure.
 *
 * AUCs, ECE, sensitivity and specificity are computed over the studies the node analysed (a
 * refused study has no prediction); the oracle AUCs over the same studies, so the comparison is
 * fair, and over all of them (`oracleAucAll`). A refused study counts as a localiser miss.
 */
import type { ModelIdentity } from '../inference/result';
import { MODEL_ROLES, type EvaluationCase, type ModelRole } from './evaluationCase';
import { bootstrapAucs, differenceInterval, eceSamplingFloor, expectedCalibrationError, operatingPoint, quantile } from './metrics';
import { rocAuc, rocCurve, type RocPoint } from '../statistics/roc';

export const EVALUATION_SCHEMA = 'tsr-node/evaluation@1';

/** The issue's goals (issue 4), checked on every evaluation. */
export const GOALS = {
  fusedWithinOracle: 0.03,
  fusedAboveSingle: 0.03,
  maxEce: 0.05,
  minLocaliserHitRate: 0.95,
  minCount: 400,
} as const;

export interface EvaluationReport {
  schema: typeof EVALUATION_SCHEMA;
  createdAt: string;
  seeds: { from: number; to: number };
  imageSize: { columns: number; slices: number };
  /** Studies generated. */
  n: number;
  /** Studies the node analysed (not refused, not failed). */
  nAnalysed: number;
  refused: Record<string, number>;
  failed: Array<{ seed: number; error: string }>;
  prevalenceHigh: number;
  models: Record<ModelRole | 'localizer', ModelIdentity>;
  /** Operating threshold of the fused model (its manifest). */
  threshold: number;
  auc: Record<ModelRole, number>;
  oracleAuc: Record<ModelRole, number>;
  oracleAucAll: Record<ModelRole, number>;
  /** AUC with crops at the ground-truth centres instead of the localiser's. */
  aucAtTrueCentre: Record<ModelRole, number>;
  auc95ci: Record<ModelRole, [number, number]>;
  oracleAuc95ci: Record<ModelRole, [number, number]>;
  /** Paired bootstrap intervals of AUC differences. */
  aucDifference95ci: { fusedMinusArterial: [number, number]; fusedMinusVenous: [number, number]; oracleFusedMinusFused: [number, number] };
  bootstrap: { replicates: number; seed: number };
  /** Expected calibration error of the fused model (10 equal-width bins). */
  ece: number;
  eceByModel: Record<ModelRole, number>;
  /** The fused ECE a perfectly calibrated model would show on this cohort, from sampling alone (mean and 95th percentile). */
  eceSamplingFloor: { mean: number; p95: number };
  /** At the fused model's threshold, positive class = high TSR. */
  sensitivity: number;
  specificity: number;
  operatingPoints: Record<ModelRole, { threshold: number; sensitivity: number; specificity: number }>;
  localiser: {
    /** Venous centre inside the tumour, over all generated studies (refused = miss). */
    hitRate: number;
    arterialHitRate: number;
    medianVenousErrorMm: number;
    /** Hit rate (refused = miss) by the generated tumour's greatest diameter. */
    hitRateBySize: Record<string, { n: number; hitRate: number }>;
    medianArterialErrorMm: number;
    arterialRefinedRate: number;
    medianConfidence: number;
  };
  goals: Record<string, { target: string; value: number; met: boolean }>;
  timing: { seconds: number; medianAnalysisMs: number };
}

export interface ReportInput {
  cases: EvaluationCase[];
  failed: Array<{ seed: number; error: string }>;
  seeds: { from: number; to: number };
  imageSize: { columns: number; slices: number };
  models: Record<ModelRole | 'localizer', ModelIdentity>;
  thresholds: Record<ModelRole, number>;
  bootstrap?: { replicates: number; seed: number };
  seconds: number;
  createdAt: string;
}

const median = (xs: number[]): number => (xs.length === 0 ? Number.NaN : quantile([...xs].sort((a, b) => a - b), 0.5));
const byRole = <T>(f: (role: ModelRole) => T): Record<ModelRole, T> => ({ fused: f('fused'), arterial: f('arterial'), venous: f('venous') });

export function buildEvaluationReport(input: ReportInput): { report: EvaluationReport; curves: Record<ModelRole | 'oracleFused', RocPoint[]> } {
  const all = input.cases;
  const analysed = all.filter((c) => c.analysed && c.probabilities && c.atTrueCentre);
  if (analysed.length === 0) throw new Error('no study was analysed: nothing to evaluate');
  const positives = analysed.map((c) => c.label === 'high');
  if (positives.every(Boolean) || !positives.some(Boolean)) throw new Error('the analysed studies hold one class only: AUC is undefined');
  const scores = byRole((role) => analysed.map((c) => c.probabilities![role]));
  const oracle = byRole((role) => analysed.map((c) => c.oracle[role]));
  const bootstrap = input.bootstrap ?? { replicates: 2000, seed: 20240601 };
  const boot = bootstrapAucs(
    { fused: scores.fused, arterial: scores.arterial, venous: scores.venous, oracleFused: oracle.fused, oracleArterial: oracle.arterial, oracleVenous: oracle.venous },
    positives,
    bootstrap,
  );
  const auc = byRole((role) => rocAuc(scores[role], positives));
  const oracleAuc = byRole((role) => rocAuc(oracle[role], positives));
  const allPositives = all.map((c) => c.label === 'high');
  const oracleAucAll = byRole((role) => rocAuc(all.map((c) => c.oracle[role]), allPositives));
  const withTrue = all.filter((c) => c.atTrueCentre);
  const aucAtTrueCentre = byRole((role) => rocAuc(withTrue.map((c) => c.atTrueCentre![role]), withTrue.map((c) => c.label === 'high')));
  const operatingPoints = byRole((role) => {
    const op = operatingPoint(scores[role], positives, input.thresholds[role]);
    return { threshold: op.threshold, sensitivity: op.sensitivity, specificity: op.specificity };
  });
  const eceByModel = byRole((role) => expectedCalibrationError(scores[role], positives));
  const refused: Record<string, number> = {};
  for (const c of all) if (!c.analysed && c.refusal) refused[c.refusal.code] = (refused[c.refusal.code] ?? 0) + 1;
  const total = all.length + input.failed.length;
  const loc = analysed.map((c) => c.localisation!);
  const localiser = {
    hitRate: loc.filter((l) => l.venousHit).length / total,
    arterialHitRate: loc.filter((l) => l.arterialHit).length / total,
    medianVenousErrorMm: median(loc.map((l) => l.venousErrorMm)),
    medianArterialErrorMm: median(loc.map((l) => l.arterialErrorMm)),
    arterialRefinedRate: loc.filter((l) => l.arterialRefined).length / Math.max(1, loc.length),
    medianConfidence: median(loc.map((l) => l.confidence)),
    hitRateBySize: hitRateBySize(all),
  };
  const bestSingle = Math.max(auc.arterial, auc.venous);
  const goals = {
    fusedWithinOracle: { target: `oracle fused AUC - fused AUC <= ${GOALS.fusedWithinOracle}`, value: oracleAuc.fused - auc.fused, met: oracleAuc.fused - auc.fused <= GOALS.fusedWithinOracle },
    fusedAboveSingle: { target: `fused AUC - best single-phase AUC >= ${GOALS.fusedAboveSingle}`, value: auc.fused - bestSingle, met: auc.fused - bestSingle >= GOALS.fusedAboveSingle },
    ece: { target: `ECE <= ${GOALS.maxEce}`, value: eceByModel.fused, met: eceByModel.fused <= GOALS.maxEce },
    localiserHitRate: { target: `centre inside the tumour >= ${GOALS.minLocaliserHitRate}`, value: localiser.hitRate, met: localiser.hitRate >= GOALS.minLocaliserHitRate },
    cohortSize: { target: `n >= ${GOALS.minCount}`, value: total, met: total >= GOALS.minCount },
  };
  const report: EvaluationReport = {
    schema: EVALUATION_SCHEMA,
    createdAt: input.createdAt,
    seeds: input.seeds,
    imageSize: input.imageSize,
    n: total,
    nAnalysed: analysed.length,
    refused,
    failed: input.failed,
    prevalenceHigh: positives.filter(Boolean).length / positives.length,
    models: input.models,
    threshold: input.thresholds.fused,
    auc,
    oracleAuc,
    oracleAucAll,
    aucAtTrueCentre,
    auc95ci: byRole((role) => boot.intervals[role]),
    oracleAuc95ci: {
      fused: boot.intervals.oracleFused,
      arterial: boot.intervals.oracleArterial,
      venous: boot.intervals.oracleVenous,
    },
    aucDifference95ci: {
      fusedMinusArterial: differenceInterval(boot.replicates.fused, boot.replicates.arterial),
      fusedMinusVenous: differenceInterval(boot.replicates.fused, boot.replicates.venous),
      oracleFusedMinusFused: differenceInterval(boot.replicates.oracleFused, boot.replicates.fused),
    },
    bootstrap,
    ece: eceByModel.fused,
    eceByModel,
    eceSamplingFloor: eceSamplingFloor(scores.fused),
    sensitivity: operatingPoints.fused.sensitivity,
    specificity: operatingPoints.fused.specificity,
    operatingPoints,
    localiser,
    goals,
    timing: { seconds: input.seconds, medianAnalysisMs: median(analysed.map((c) => c.analysisMs ?? Number.NaN).filter(Number.isFinite)) },
  };
  const curves = {
    ...byRole((role) => rocCurve(scores[role], positives)),
    oracleFused: rocCurve(oracle.fused, positives),
  };
  return { report, curves };
}

/** Size bands of the localiser breakdown: small tumours are the ones it misses. */
const SIZE_BANDS: ReadonlyArray<[string, number, number]> = [
  ['< 20 mm', 0, 20],
  ['20-30 mm', 20, 30],
  ['>= 30 mm', 30, Infinity],
];

function hitRateBySize(cases: readonly EvaluationCase[]): Record<string, { n: number; hitRate: number }> {
  const out: Record<string, { n: number; hitRate: number }> = {};
  for (const [name, lo, hi] of SIZE_BANDS) {
    const band = cases.filter((c) => c.tumour.diameterMm >= lo && c.tumour.diameterMm < hi);
    if (band.length) out[name] = { n: band.length, hitRate: band.filter((c) => c.localisation?.venousHit).length / band.length };
  }
  return out;
}

const f3 = (x: number): string => x.toFixed(3);
const ci = (c: [number, number]): string => `${f3(c[0])}-${f3(c[1])}`;

/** The model card's table (markdown), from a report. */
export function evaluationTable(r: EvaluationReport): string {
  const rows = MODEL_ROLES.map((role) => {
    const name = role === 'fused' ? 'fused (both phases)' : `${role} only`;
    const op = r.operatingPoints[role];
    return `| ${name} | ${f3(r.auc[role])} (${ci(r.auc95ci[role])}) | ${f3(r.oracleAuc[role])} | ${f3(r.aucAtTrueCentre[role])} | ${f3(r.eceByModel[role])} | ${f3(op.sensitivity)} / ${f3(op.specificity)} at ${op.threshold} |`;
  });
  return [
    `Held-out synthetic cohort: seeds ${r.seeds.from}..${r.seeds.to}, ${r.imageSize.columns} x ${r.imageSize.columns} px, ${r.imageSize.slices} slices per phase; n = ${r.n} (${r.nAnalysed} analysed${Object.keys(r.refused).length ? `, refused: ${Object.entries(r.refused).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}); ${(100 * r.prevalenceHigh).toFixed(0)}% high TSR.`,
    '',
    '| model | AUC (95% CI) | oracle AUC | AUC at true centre | ECE | sensitivity / specificity |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Localiser: centre inside the tumour in ${(100 * r.localiser.hitRate).toFixed(1)}% of studies (arterial ${(100 * r.localiser.arterialHitRate).toFixed(1)}%); median error ${r.localiser.medianVenousErrorMm.toFixed(1)} mm venous, ${r.localiser.medianArterialErrorMm.toFixed(1)} mm arterial. By tumour size: ${Object.entries(r.localiser.hitRateBySize).map(([band, b]) => `${band} ${(100 * b.hitRate).toFixed(0)}% of ${b.n}`).join(', ')}.`,
    '',
    `ECE of the fused model ${f3(r.ece)}; a perfectly calibrated model would show ${f3(r.eceSamplingFloor.mean)} on these ${r.nAnalysed} studies from sampling alone (95th percentile ${f3(r.eceSamplingFloor.p95)}).`,
    '',
    ...Object.entries(r.goals).map(([name, g]) => `- ${g.met ? 'met' : 'NOT met'}: ${name} (${g.target}): ${f3(g.value)}`),
    '',
  ].join('\n');
}
