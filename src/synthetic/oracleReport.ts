/**
 * The oracle AUCs of a cohort: how well P(high TSR | noise-free enhancement parameters) ranks the
 * studies, using both phases, the arterial phase alone and the venous phase alone. An image
 * model's AUC on the same cohort can only approach these (up to sampling noise).
 */
import { rocAuc } from '../statistics/roc';
import type { TsrLabel } from './biology';
import type { OracleScores } from './oracle';
import { DEFAULT_CENTRE_PROFILE, type CentreProfile } from './profiles';

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

/**
 * The report's text; `profile` (a randomised centre profile) names it and gives its own design
 * ranges; without one (or with the baseline) the text is the baseline's.
 */
export function formatOracleReport(r: OracleReport, seed: number, profile?: Pick<CentreProfile, 'name' | 'oracleDesign'>): string {
  // The design ranges are for cohorts of about 500; a small cohort's AUC varies too much to judge.
  const judged = r.count >= 200;
  const against = (v: number, [lo, hi]: readonly [number, number]): string => {
    const range = `${lo.toFixed(2)}-${hi.toFixed(2)}`;
    if (!judged) return `(designed ${range} for about 500 studies)`;
    return `${v >= lo && v <= hi ? 'within' : 'OUTSIDE'} the designed ${range}`;
  };
  const named = profile !== undefined && profile.name !== DEFAULT_CENTRE_PROFILE;
  const f = named ? profile.oracleDesign : ORACLE_DESIGN_RANGES;
  return [
    `Oracle AUC, P(high TSR | noise-free enhancement), ${r.count} studies from seed ${seed}${named ? ` of centre profile ${profile.name}` : ''} (${r.low} low, ${r.high} high TSR):`,
    `  fused (both phases)  ${r.auc.fused.toFixed(3)}   ${against(r.auc.fused, f.fused)}`,
    `  arterial only        ${r.auc.arterial.toFixed(3)}   ${against(r.auc.arterial, f.singlePhase)}`,
    `  venous only          ${r.auc.venous.toFixed(3)}   ${against(r.auc.venous, f.singlePhase)}`,
    'No image model can beat the fused figure on these studies; it is the ceiling to compare models with.',
  ].join('\n');
}
