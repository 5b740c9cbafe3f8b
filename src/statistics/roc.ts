/**
 * Receiver operating characteristic of a binary classifier: pure functions over (score, label)
 * pairs, shared by the synthetic oracle report and `tsr-node evaluate`.
 *
 * AUC is the Mann-Whitney U statistic divided by n_pos * n_neg, with tied scores counted as one
 * half (midranks), which equals the trapezoidal area under the empirical ROC curve.
 */

export interface RocPoint {
  threshold: number;
  /** Sensitivity: positives with score >= threshold, over all positives. */
  truePositiveRate: number;
  /** 1 - specificity: negatives with score >= threshold, over all negatives. */
  falsePositiveRate: number;
}

function checkInputs(scores: readonly number[], positives: readonly boolean[]): { nPos: number; nNeg: number } {
  if (scores.length !== positives.length) throw new RangeError(`scores (${scores.length}) and labels (${positives.length}) differ in length`);
  for (const s of scores) if (!Number.isFinite(s)) throw new RangeError(`score ${s} is not a finite number`);
  const nPos = positives.filter(Boolean).length;
  const nNeg = positives.length - nPos;
  if (nPos === 0 || nNeg === 0) throw new RangeError('AUC needs at least one positive and one negative case');
  return { nPos, nNeg };
}

/** Area under the ROC curve; `positives[i]` is true when case i belongs to the positive class. */
export function rocAuc(scores: readonly number[], positives: readonly boolean[]): number {
  const { nPos, nNeg } = checkInputs(scores, positives);
  const order = scores.map((_, i) => i).sort((i, j) => (scores[i]) - (scores[j]));
  let rankSumPositive = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const midrank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positives[order[k]]) rankSumPositive += midrank;
    i = j + 1;
  }
  return (rankSumPositive - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The empirical ROC curve, from (0,0) to (1,1), one point per distinct threshold. */
export function rocCurve(scores: readonly number[], positives: readonly boolean[]): RocPoint[] {
  const { nPos, nNeg } = checkInputs(scores, positives);
  const order = scores.map((_, i) => i).sort((i, j) => (scores[j]) - (scores[i]));
  const points: RocPoint[] = [{ threshold: Infinity, truePositiveRate: 0, falsePositiveRate: 0 }];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < order.length) {
    const threshold = scores[order[i]];
    while (i < order.length && scores[order[i]] === threshold) {
      if (positives[order[i]]) tp++;
      else fp++;
      i++;
    }
    points.push({ threshold, truePositiveRate: tp / nPos, falsePositiveRate: fp / nNeg });
  }
  return points;
}

/**
 * The best balanced accuracy ((sensitivity + specificity) / 2) reachable by one threshold on the
 * score, in either direction. 1 means the score separates the classes perfectly.
 */
export function bestThresholdBalancedAccuracy(scores: readonly number[], positives: readonly boolean[]): number {
  let best = 0;
  for (const p of rocCurve(scores, positives)) {
    const balanced = (p.truePositiveRate + 1 - p.falsePositiveRate) / 2;
    best = Math.max(best, balanced, 1 - balanced);
  }
  return best;
}
