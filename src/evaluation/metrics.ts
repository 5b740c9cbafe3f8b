/**
 * Evaluation metrics of a binary probabilistic classifier, pure. The positive class is "high TSR"
 * and the score is P(high). AUC and the ROC curve come from roc.ts (shared with the synthetic
 * oracle report).
 */
import { rocAuc } from '../statistics/roc';

function check(probabilities: readonly number[], positives: readonly boolean[]): void {
  if (probabilities.length !== positives.length) throw new RangeError(`probabilities (${probabilities.length}) and labels (${positives.length}) differ in length`);
  if (probabilities.length === 0) throw new RangeError('no cases');
  for (const p of probabilities) if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} is not in [0, 1]`);
}

/**
 * Expected calibration error with `bins` equal-width bins of P(high) over [0, 1] (the last bin
 * holds 1.0): sum over bins of (cases in bin / all cases) * |mean P(high) - fraction high|
 * (Guo et al. 2017, "On calibration of modern neural networks", eq. 3, on the positive-class
 * probability).
 */
export function expectedCalibrationError(probabilities: readonly number[], positives: readonly boolean[], bins = 10): number {
  check(probabilities, positives);
  if (!(Number.isInteger(bins) && bins > 0)) throw new RangeError(`bins must be a positive integer, got ${bins}`);
  const count = new Array<number>(bins).fill(0);
  const sumP = new Array<number>(bins).fill(0);
  const sumY = new Array<number>(bins).fill(0);
  probabilities.forEach((p, n) => {
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]++;
    sumP[b] += p;
    if (positives[n]) sumY[b]++;
  });
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += (count[b] / probabilities.length) * Math.abs(sumP[b] / count[b] - sumY[b] / count[b]);
  return ece;
}

export interface OperatingPoint {
  threshold: number;
  /** High-TSR cases called high (P(high) >= threshold), over all high-TSR cases. */
  sensitivity: number;
  /** Low-TSR cases called low, over all low-TSR cases. */
  specificity: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/** Sensitivity and specificity at a threshold on P(high) (the node calls "high" at >= threshold). */
export function operatingPoint(probabilities: readonly number[], positives: readonly boolean[], threshold: number): OperatingPoint {
  check(probabilities, positives);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  probabilities.forEach((p, n) => {
    const calledHigh = p >= threshold;
    if (positives[n]) {
      if (calledHigh) tp++;
      else fn++;
    } else if (calledHigh) fp++;
    else tn++;
  });
  return {
    threshold,
    sensitivity: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    specificity: tn + fp > 0 ? tn / (tn + fp) : Number.NaN,
    truePositives: tp,
    falsePositives: fp,
    trueNegatives: tn,
    falseNegatives: fn,
  };
}

/** A small seeded PRNG (mulberry32), so that bootstrap intervals are reproducible. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The q-quantile (0..1) of sorted values, linear between order statistics (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of nothing');
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * The ECE that a perfectly calibrated model would show on these probabilities, from sampling
 * alone: labels are drawn as Bernoulli(p) for each case and the ECE is measured, `replicates`
 * times. With a few hundred cases and probabilities spread over the middle bins it is of the order
 * of 0.05, so a measured ECE near it says "calibrated as far as this cohort can tell", and a goal
 * below it cannot be shown without a larger cohort.
 */
export function eceSamplingFloor(probabilities: readonly number[], options: { replicates?: number; seed?: number } = {}): { mean: number; p95: number } {
  const replicates = options.replicates ?? 1000;
  const uniform = seededUniform(options.seed ?? 20240602);
  const values: number[] = [];
  for (let r = 0; r < replicates; r++) {
    const labels = probabilities.map((p) => uniform() < p);
    values.push(expectedCalibrationError(probabilities, labels));
  }
  values.sort((a, b) => a - b);
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, p95: quantile(values, 0.95) };
}

export interface BootstrapOptions {
  replicates?: number;
  /** Two-sided coverage, e.g. 0.95. */
  level?: number;
  seed?: number;
}

/**
 * Percentile bootstrap intervals (Efron) of the AUC of several scores over the same cases, one
 * resampling of the cases shared by all of them (a paired bootstrap), so that the interval of a
 * difference of AUCs is also available. Resamples without both classes are drawn again.
 */
export function bootstrapAucs(
  scores: Readonly<Record<string, readonly number[]>>,
  positives: readonly boolean[],
  options: BootstrapOptions = {},
): { intervals: Record<string, [number, number]>; replicates: Record<string, number[]> } {
  const replicates = options.replicates ?? 2000;
  const level = options.level ?? 0.95;
  const random = seededUniform(options.seed ?? 1);
  const names = Object.keys(scores);
  const n = positives.length;
  for (const name of names) if (scores[name].length !== n) throw new RangeError(`scores "${name}" has ${scores[name].length} cases, labels ${n}`);
  const out: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, [] as number[]]));
  const pick = new Array<number>(n);
  const y = new Array<boolean>(n);
  for (let r = 0; r < replicates; r++) {
    let positivesDrawn = 0;
    do {
      positivesDrawn = 0;
      for (let m = 0; m < n; m++) {
        pick[m] = Math.floor(random() * n);
        y[m] = positives[pick[m]];
        if (y[m]) positivesDrawn++;
      }
    } while (positivesDrawn === 0 || positivesDrawn === n);
    for (const name of names) out[name].push(rocAuc(pick.map((i) => scores[name][i]), y));
  }
  const alpha = (1 - level) / 2;
  const intervals: Record<string, [number, number]> = {};
  for (const name of names) {
    const sorted = [...out[name]].sort((a, b) => a - b);
    intervals[name] = [quantile(sorted, alpha), quantile(sorted, 1 - alpha)];
  }
  return { intervals, replicates: out };
}

/** Percentile interval of the paired difference a - b from bootstrapAucs' replicates. */
export function differenceInterval(a: readonly number[], b: readonly number[], level = 0.95): [number, number] {
  const d = a.map((x, i) => x - b[i]).sort((p, q) => p - q);
  const alpha = (1 - level) / 2;
  return [quantile(d, alpha), quantile(d, 1 - alpha)];
}
