/**
 * The oracle AUCs of a cohort: how well P(high TSR | noise-free enhancement parameters) ranks the
 * studies, using both phases, the arterial phase alone and the venous phase alone. An image
 * model's AUC on the same cohort can only approach these (up to sampling noise).
 */
import { rocAuc } from '../evaluation/roc';
import type { TsrLabel } from './biology';
import type { OracleScores } from './oracle';

export interface OracleReport {
  count: number;
  low: number;
  high: number;
  auc: { fused: number; arterial: number; venous: number };
}

/** Design targets for a cohort of about 500 (docs/synthetic-data.md). */
export const ORACLE_DESIGN_RANGES = {
  fused: [0.9, 0.95],
  singlePhase: [0.75, 0.85],
} as const;

export function oracleReport(cases: Array<{ label: TsrLabel; oracle: OracleScores }>): OracleReport {
  const positives = cases.map((c) => c.label === 'high');
  const high = positives.filter(Boolean).length;
  return {
    count: cases.length,
    low: cases.length - high,
    high,
    auc: {
      fused: rocAuc(
        cases.map((c) => c.oracle.fused),
        positives,
      ),
      arterial: rocAuc(
        cases.map((c) => c.oracle.arterial),
        positives,
      ),
      venous: rocAuc(
        cases.map((c) => c.oracle.venous),
        positives,
      ),
    },
  };
}

export function formatOracleReport(r: OracleReport, seed: number): string {
  const inRange = (v: number, [lo, hi]: readonly [number, number]): string => (v >= lo && v <= hi ? 'within' : 'OUTSIDE');
  const f = ORACLE_DESIGN_RANGES;
  return [
    `Oracle AUC, P(high TSR | noise-free enhancement), ${r.count} studies from seed ${seed} (${r.low} low, ${r.high} high TSR):`,
    `  fused (both phases)  ${r.auc.fused.toFixed(3)}   ${inRange(r.auc.fused, f.fused)} the designed ${f.fused[0].toFixed(2)}-${f.fused[1].toFixed(2)}`,
    `  arterial only        ${r.auc.arterial.toFixed(3)}   ${inRange(r.auc.arterial, f.singlePhase)} the designed ${f.singlePhase[0].toFixed(2)}-${f.singlePhase[1].toFixed(2)}`,
    `  venous only          ${r.auc.venous.toFixed(3)}   ${inRange(r.auc.venous, f.singlePhase)} the designed ${f.singlePhase[0].toFixed(2)}-${f.singlePhase[1].toFixed(2)}`,
    'No image model can beat the fused figure on these studies; it is the ceiling to compare models with.',
  ].join('\n');
}
