/**
 * The oracle: P(high TSR | noise-free enhancement parameters), by numerical integration over the
 * latent stroma fraction of the generative model in biology.ts. No image model can beat its AUC
 * on these studies (the image depends on the label only through these parameters), so it is the
 * ceiling that models are measured against.
 *
 * Given s, the pair (TPC_arterial, TPC_venous) is bivariate normal: mean linear in s, covariance
 * from the perfusion (same sign in both phases), wash-in delay (opposite signs) and phase-specific
 * terms. The parenchyma HU are independent of s and of the TPC, so conditioning on tumour and
 * parenchyma HU is the same as conditioning on the two TPCs. The integral over s uses the midpoint
 * rule on 400 points of the Beta prior, exact to far better than 1e-4 in probability.
 */
import { STROMA_THRESHOLD, TPC_MODEL, type EnhancementParameters } from './biology';

export interface OracleScores {
  /** P(high | both phases). */
  fused: number;
  /** P(high | pancreatic/arterial phase only). */
  arterial: number;
  /** P(high | portal-venous phase only). */
  venous: number;
}

const GRID_POINTS = 400;

interface PriorGrid {
  s: Float64Array;
  weight: Float64Array;
}

let priorGrid: PriorGrid | undefined;

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9): ample precision for Beta densities.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const xm = x - 1;
  let a = c[0];
  const t = xm + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i]) / (xm + i);
  return 0.5 * Math.log(2 * Math.PI) + (xm + 0.5) * Math.log(t) - t + Math.log(a);
}

function grid(): PriorGrid {
  if (priorGrid) return priorGrid;
  const { alpha, beta } = TPC_MODEL.stromaBeta;
  const logB = logGamma(alpha) + logGamma(beta) - logGamma(alpha + beta);
  const s = new Float64Array(GRID_POINTS);
  const weight = new Float64Array(GRID_POINTS);
  for (let i = 0; i < GRID_POINTS; i++) {
    const x = (i + 0.5) / GRID_POINTS;
    s[i] = x;
    weight[i] = Math.exp((alpha - 1) * Math.log(x) + (beta - 1) * Math.log(1 - x) - logB) / GRID_POINTS;
  }
  priorGrid = { s, weight };
  return priorGrid;
}

/** Covariance of (TPC_arterial, TPC_venous) given s. */
export function tpcCovariance(): { varArterial: number; varVenous: number; covariance: number } {
  const m = TPC_MODEL;
  const shared = m.perfusionSd ** 2;
  const opposite = m.washInDelaySd ** 2;
  const own = m.phaseSpecificSd ** 2;
  return { varArterial: shared + opposite + own, varVenous: shared + opposite + own, covariance: shared - opposite };
}

/** Oracle probabilities from the two TPCs (HU). */
export function oracleFromTpc(tpcArterial: number, tpcVenous: number): OracleScores {
  const { s, weight } = grid();
  const { varArterial, varVenous, covariance } = tpcCovariance();
  const det = varArterial * varVenous - covariance * covariance;
  const m = TPC_MODEL;
  // Work with log-likelihoods shifted by their maximum to avoid underflow far in the tails.
  const lf = new Float64Array(GRID_POINTS);
  const la = new Float64Array(GRID_POINTS);
  const lv = new Float64Array(GRID_POINTS);
  let maxF = -Infinity;
  let maxA = -Infinity;
  let maxV = -Infinity;
  for (let i = 0; i < GRID_POINTS; i++) {
    const si = s[i];
    const da = tpcArterial - (m.arterial.intercept - m.arterial.stromaSlope * (si - 0.5));
    const dv = tpcVenous - (m.venous.intercept - m.venous.stromaSlope * (si - 0.5));
    const q = (varVenous * da * da - 2 * covariance * da * dv + varArterial * dv * dv) / det;
    lf[i] = -0.5 * q;
    la[i] = (-0.5 * da * da) / varArterial;
    lv[i] = (-0.5 * dv * dv) / varVenous;
    if ((lf[i]) > maxF) maxF = lf[i];
    if ((la[i]) > maxA) maxA = la[i];
    if ((lv[i]) > maxV) maxV = lv[i];
  }
  let hf = 0;
  let tf = 0;
  let ha = 0;
  let ta = 0;
  let hv = 0;
  let tv = 0;
  for (let i = 0; i < GRID_POINTS; i++) {
    const w = weight[i];
    const pf = w * Math.exp((lf[i]) - maxF);
    const pa = w * Math.exp((la[i]) - maxA);
    const pv = w * Math.exp((lv[i]) - maxV);
    tf += pf;
    ta += pa;
    tv += pv;
    if ((s[i]) < STROMA_THRESHOLD) {
      hf += pf;
      ha += pa;
      hv += pv;
    }
  }
  return { fused: hf / tf, arterial: ha / ta, venous: hv / tv };
}

/** Oracle probabilities from a study's noise-free enhancement parameters. */
export function oracleScores(enhancement: EnhancementParameters): OracleScores {
  return oracleFromTpc(enhancement.tpcHu.arterial, enhancement.tpcHu.venous);
}

/** Prior probability of high TSR under the model (about 0.60). */
export function priorProbabilityHigh(): number {
  const { s, weight } = grid();
  let high = 0;
  let total = 0;
  for (let i = 0; i < GRID_POINTS; i++) {
    total += weight[i];
    if ((s[i]) < STROMA_THRESHOLD) high += weight[i];
  }
  return high / total;
}

/**
 * Iso-attenuating tumours of the randomised profiles (PHANTOM.md: TPC 9 +- 4 HU arterial, 7 +- 5 HU
 * venous), a mixture component whatever the stroma: with probability `rate` a tumour's two TPCs
 * come from these independent normals instead of the stroma relation.
 */
export const ISO_ATTENUATING_TPC = { arterial: { mean: 9, sd: 4 }, venous: { mean: 7, sd: 5 } } as const;

const logNormalDensity = (x: number, mean: number, variance: number): number => -0.5 * Math.log(2 * Math.PI * variance) - (0.5 * (x - mean) ** 2) / variance;

/** P(high) from log-likelihoods per grid point: the stroma relation's, mixed with the iso component's (constant over s). */
function mixturePosterior(logRelation: Float64Array, logIso: number, rate: number): number {
  const { s, weight } = grid();
  const logA = Math.log(1 - rate);
  const logB = rate > 0 ? Math.log(rate) + logIso : -Infinity;
  let max = logB;
  for (let i = 0; i < GRID_POINTS; i++) max = Math.max(max, logA + logRelation[i]);
  const iso = Math.exp(logB - max);
  let high = 0;
  let total = 0;
  for (let i = 0; i < GRID_POINTS; i++) {
    const p = weight[i] * (Math.exp(logA + logRelation[i] - max) + iso);
    total += p;
    if (s[i] < STROMA_THRESHOLD) high += p;
  }
  return high / total;
}

/**
 * Oracle probabilities from the two TPCs (HU at 120 kV and usual enhancement) when a share
 * `isoAttenuatingRate` of tumours is iso-attenuating whatever its stroma. Rate 0 gives the
 * same figures as oracleFromTpc (up to rounding).
 */
export function oracleFromTpcMixture(tpcArterial: number, tpcVenous: number, isoAttenuatingRate: number): OracleScores {
  const { s } = grid();
  const { varArterial, varVenous, covariance } = tpcCovariance();
  const det = varArterial * varVenous - covariance * covariance;
  const m = TPC_MODEL;
  const fused = new Float64Array(GRID_POINTS);
  const arterial = new Float64Array(GRID_POINTS);
  const venous = new Float64Array(GRID_POINTS);
  for (let i = 0; i < GRID_POINTS; i++) {
    const da = tpcArterial - (m.arterial.intercept - m.arterial.stromaSlope * (s[i] - 0.5));
    const dv = tpcVenous - (m.venous.intercept - m.venous.stromaSlope * (s[i] - 0.5));
    const q = (varVenous * da * da - 2 * covariance * da * dv + varArterial * dv * dv) / det;
    fused[i] = -Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q;
    arterial[i] = logNormalDensity(da, 0, varArterial);
    venous[i] = logNormalDensity(dv, 0, varVenous);
  }
  const iso = ISO_ATTENUATING_TPC;
  const isoArterial = logNormalDensity(tpcArterial, iso.arterial.mean, iso.arterial.sd ** 2);
  const isoVenous = logNormalDensity(tpcVenous, iso.venous.mean, iso.venous.sd ** 2);
  return {
    fused: mixturePosterior(fused, isoArterial + isoVenous, isoAttenuatingRate),
    arterial: mixturePosterior(arterial, isoArterial, isoAttenuatingRate),
    venous: mixturePosterior(venous, isoVenous, isoAttenuatingRate),
  };
}
