/**
 * Seed ranges of the synthetic cohorts, kept apart so that no evaluation study was ever seen in
 * training: training datasets (`tsr-node dataset build --synthetic-seeds A..B`, and synthetic
 * folders) use seeds below EVALUATION_SEED_START; `tsr-node evaluate` uses seeds from it on.
 * Each command refuses a range that crosses the line.
 */
export const EVALUATION_SEED_START = 1_000_000;

/** Largest seed the generator accepts (seeds are 32-bit unsigned). */
export const MAX_SEED = 0xffffffff;

export class SeedRangeError extends Error {
  override readonly name = 'SeedRangeError';
}

/** Parses "A..B" (inclusive) or a single seed "A". */
export function parseSeedRange(text: string): { from: number; to: number } {
  const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(text);
  if (!m) throw new SeedRangeError(`seed range "${text}" must look like A..B (inclusive) or A`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (to < from) throw new SeedRangeError(`seed range "${text}" ends before it starts`);
  if (to > MAX_SEED) throw new SeedRangeError(`seed ${to} is larger than ${MAX_SEED}`);
  return { from, to };
}

export function checkTrainingSeeds(from: number, to: number): void {
  if (to >= EVALUATION_SEED_START) {
    throw new SeedRangeError(`training seeds must be below ${EVALUATION_SEED_START} (seeds from ${EVALUATION_SEED_START} on are held out for tsr-node evaluate); got ${from}..${to}`);
  }
}

export function checkEvaluationSeeds(from: number, count: number): void {
  if (from < EVALUATION_SEED_START) {
    throw new SeedRangeError(`evaluation seeds must start at ${EVALUATION_SEED_START} or above (seeds below are for training); got --seed ${from}`);
  }
  if (!(Number.isInteger(count) && count > 0)) throw new SeedRangeError(`--count must be a positive integer, got ${count}`);
  if (from + count - 1 > MAX_SEED) throw new SeedRangeError(`seeds ${from}..${from + count - 1} go beyond ${MAX_SEED}`);
}
