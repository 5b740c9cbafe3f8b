/**
 * Small evaluation cases and reports for the evaluation unit tests: the figures are easy to work
 * out by hand.
 */
import type { EvaluationCase } from '../../../src/evaluation/evaluationCase';
import { buildEvaluationReport, type ProfileCohort } from '../../../src/evaluation/evaluationReport';

const identity = { name: 'm', version: '1', sha256: 'a'.repeat(64) };

type Scores = { fused: number; arterial: number; venous: number };

/** An analysed study; `hit`: the found venous centre lies inside the tumour. */
export function analysedCase(profile: string, seed: number, label: 'low' | 'high', p: Scores, hit = true, diameterMm = 30): EvaluationCase {
  return {
    seed,
    profile,
    studyInstanceUID: `2.25.${seed}`,
    label,
    tumour: { diameterMm, region: 'head' },
    oracle: { fused: label === 'high' ? 0.9 : 0.1, arterial: 0.5, venous: label === 'high' ? 0.6 : 0.4 },
    analysed: true,
    probabilities: p,
    atTrueCentre: p,
    localisation: { confidence: 0.9, venousHit: hit, arterialHit: hit, venousErrorMm: hit ? 2 : 40, arterialErrorMm: 3, arterialRefined: true, diameterMm },
    analysisMs: 100,
    venousVolume: { columns: 64, slices: 20, sliceSpacingMm: 2.5 },
  };
}

/** A study the node refused (no tumour found). */
export function refusedCase(profile: string, seed: number, label: 'low' | 'high', diameterMm: number): EvaluationCase {
  return {
    seed,
    profile,
    studyInstanceUID: `2.25.${seed}`,
    label,
    tumour: { diameterMm, region: 'tail' },
    oracle: { fused: label === 'high' ? 0.7 : 0.3, arterial: 0.5, venous: 0.5 },
    analysed: false,
    refusal: { code: 'tumour-not-found', message: 'no tumour found' },
  };
}

/**
 * Profile "alpha" (training): fused perfect, one wrong-place result (a 15 mm tumour) and one
 * refusal (19.5 mm). Profile "beta" (held out): fused gets one pair of four wrong, no miss.
 */
export function twoProfileCohorts(): ProfileCohort[] {
  const alpha = [
    analysedCase('alpha', 1, 'high', { fused: 0.9, arterial: 0.7, venous: 0.5 }),
    analysedCase('alpha', 2, 'high', { fused: 0.8, arterial: 0.3, venous: 0.5 }),
    analysedCase('alpha', 3, 'low', { fused: 0.2, arterial: 0.4, venous: 0.5 }, false, 15),
    analysedCase('alpha', 4, 'low', { fused: 0.1, arterial: 0.1, venous: 0.5 }),
    refusedCase('alpha', 5, 'high', 19.5),
  ];
  const beta = [
    analysedCase('beta', 1, 'high', { fused: 0.6, arterial: 0.6, venous: 0.6 }),
    analysedCase('beta', 2, 'high', { fused: 0.3, arterial: 0.5, venous: 0.4 }),
    analysedCase('beta', 3, 'low', { fused: 0.4, arterial: 0.5, venous: 0.5 }),
    analysedCase('beta', 4, 'low', { fused: 0.1, arterial: 0.5, venous: 0.3 }),
  ];
  return [
    { profile: 'alpha', heldOut: false, cases: alpha, failed: [], seconds: 5 },
    { profile: 'beta', heldOut: true, cases: beta, failed: [], seconds: 4 },
  ];
}

export function reportOf(cohorts: ProfileCohort[]): ReturnType<typeof buildEvaluationReport> {
  return buildEvaluationReport({
    cohorts,
    seeds: { from: 1, to: 5 },
    imageSize: { columns: 64, slices: 20 },
    generator: 'test generator',
    models: { fused: identity, arterial: identity, venous: identity, localizer: identity },
    thresholds: { fused: 0.5, arterial: 0.5, venous: 0.5 },
    bootstrap: { replicates: 100, seed: 1 },
    seconds: 10,
    createdAt: '2024-01-01T00:00:00.000Z',
  });
}
