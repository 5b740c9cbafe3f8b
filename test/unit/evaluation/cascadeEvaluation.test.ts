import { expect } from 'chai';
import { dice } from '../../../src/evaluation/cascadeEvaluation';
import { localiserFigures } from '../../../src/evaluation/cohortFigures';
import type { EvaluationCase } from '../../../src/evaluation/evaluationCase';
import { cascadeLine } from '../../../src/evaluation/evaluationTables';
import { analysedCase, refusedCase } from './reportFixture';

const features = { peakLogit: 2, meanProbability: 0.7, pancreasOverlap: 1, phaseDistanceMm: 3, logVolumeMl: 0.1, shiftSpreadMm: 0.5 };

/** An analysed study of the cascade: its candidate inside the tumour or not, with a confidence. */
function cascadeAnalysed(seed: number, inside: boolean, confidence: number, diameterMm = 30): EvaluationCase {
  const c = analysedCase('alpha', seed, seed % 2 ? 'high' : 'low', { fused: 0.5, arterial: 0.5, venous: 0.5 }, inside, diameterMm);
  return { ...c, localisation: { ...c.localisation!, confidence, features, insideTumour: inside }, cascade: { pancreasDice: 0.8, pancreasVolumeMl: 70, tumourDice: inside ? 0.6 : 0, candidates: 1 } };
}

/** A refused study of the cascade; with a candidate (its features recorded) or not. */
function cascadeRefused(seed: number, code: string, candidate?: { inside: boolean; confidence: number }, diameterMm = 15): EvaluationCase {
  const c: EvaluationCase = { ...refusedCase('alpha', seed, 'high', diameterMm), refusal: { code, message: code }, refusalCode: code };
  if (code === 'pancreas-not-found') return { ...c, cascade: { pancreasDice: 0, pancreasVolumeMl: 0 } };
  const cascade = { pancreasDice: 0.7, pancreasVolumeMl: 60, tumourDice: candidate?.inside ? 0.5 : 0, candidates: candidate ? 1 : 0 };
  if (!candidate) return { ...c, cascade };
  const localisation = { confidence: candidate.confidence, venousHit: false, arterialHit: false, venousErrorMm: 5, arterialErrorMm: 5, arterialRefined: false, diameterMm: 12, features, insideTumour: candidate.inside };
  return { ...c, cascade, localisation };
}

describe('evaluation: the two-stage localiser figures', () => {
  it('Dice of two masks (1 when both are empty)', () => {
    expect(dice(Uint8Array.from([1, 1, 0, 0]), Uint8Array.from([1, 0, 1, 0]))).to.equal(0.5);
    expect(dice(new Uint8Array(3), new Uint8Array(3))).to.equal(1);
    expect(dice(Uint8Array.from([1, 0]), Uint8Array.from([0, 1]))).to.equal(0);
  });

  it('a refused study with a candidate records features but counts as a miss, never a hit or a wrong place', () => {
    const cases = [
      cascadeAnalysed(1, true, 0.9),
      cascadeAnalysed(2, false, 0.8),
      cascadeRefused(3, 'tumour-not-found', { inside: true, confidence: 0.3 }),
      cascadeRefused(4, 'finding-outside-pancreas', { inside: false, confidence: 0.1 }),
      cascadeRefused(5, 'pancreas-not-found'),
    ];
    const l = localiserFigures(cases, cases.length);
    expect(l.hitRate).to.equal(1 / 5);
    expect(l.wrongPlace.n).to.equal(1);
    expect(l.refused.n).to.equal(3);
    // Tumours under 20 mm: the three refused ones (15 mm), none a hit though one candidate was inside.
    expect(l.smallTumourHitRate).to.equal(0);
    const c = l.cascade!;
    expect(c.pancreasDice.n).to.equal(5);
    expect(c.pancreasDice.mean).to.be.closeTo((0.8 + 0.8 + 0.7 + 0.7 + 0) / 5, 1e-12);
    expect(c.tumourDice.n).to.equal(4); // stage 2 did not run on the pancreas-not-found study
    expect(c.candidates).to.equal(4);
    expect(c.candidateInsideRate).to.equal(0.5);
    // ECE over the four candidates: bins 0.9 (inside), 0.8 (outside), 0.3 (inside), 0.1 (outside).
    expect(c.confidenceEce).to.be.closeTo((0.1 + 0.8 + 0.7 + 0.1) / 4, 1e-12);
    expect(cascadeLine({ localiser: l } as never)).to.contain('pancreas Dice mean 0.600').and.contain('a candidate in 4 studies (50.0% in the tumour)');
  });

  it('leaves the figures of a single-stage localiser as they were (no cascade part)', () => {
    const cases = [analysedCase('a', 1, 'high', { fused: 0.5, arterial: 0.5, venous: 0.5 }), refusedCase('a', 2, 'low', 12)];
    const l = localiserFigures(cases, 2);
    expect(l).to.not.have.property('cascade');
    expect(cascadeLine({ localiser: l } as never)).to.equal(undefined);
  });
});
