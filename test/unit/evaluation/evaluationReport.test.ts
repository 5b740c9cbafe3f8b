import { expect } from 'chai';
import type { EvaluationCase } from '../../../src/evaluation/evaluationCase';
import { buildEvaluationReport } from '../../../src/evaluation/evaluationReport';
import { evaluationTable } from '../../../src/evaluation/evaluationTables';

const identity = { name: 'm', version: '1', sha256: 'a'.repeat(64) };

function kase(seed: number, label: 'low' | 'high', p: { fused: number; arterial: number; venous: number }, hit = true, diameterMm = 30): EvaluationCase {
  return {
    seed,
    profile: 'baseline',
    studyInstanceUID: `2.25.${seed}`,
    label,
    tumour: { diameterMm, region: 'head' },
    oracle: { fused: label === 'high' ? 0.9 : 0.1, arterial: 0.5, venous: label === 'high' ? 0.6 : 0.4 },
    analysed: true,
    probabilities: p,
    atTrueCentre: p,
    localisation: { confidence: 0.9, venousHit: hit, arterialHit: hit, venousErrorMm: hit ? 2 : 40, arterialErrorMm: 3, arterialRefined: true, diameterMm: 30 },
    analysisMs: 100,
  };
}

describe('evaluation/evaluationReport', () => {
  // Fused separates perfectly; arterial gets one pair wrong; venous is uninformative.
  const cases: EvaluationCase[] = [
    kase(1, 'high', { fused: 0.9, arterial: 0.7, venous: 0.5 }),
    kase(2, 'high', { fused: 0.8, arterial: 0.3, venous: 0.5 }),
    kase(3, 'low', { fused: 0.2, arterial: 0.4, venous: 0.5 }, false, 15),
    kase(4, 'low', { fused: 0.1, arterial: 0.1, venous: 0.5 }),
    { seed: 5, profile: 'baseline', studyInstanceUID: '2.25.5', label: 'high', tumour: { diameterMm: 19.5, region: 'tail' }, oracle: { fused: 0.7, arterial: 0.5, venous: 0.5 }, analysed: false, refusal: { code: 'tumour-not-found', message: 'x' } },
  ];
  const { report, curves } = buildEvaluationReport({
    cohorts: [{ profile: 'baseline', heldOut: false, cases, failed: [], seconds: 10 }],
    seeds: { from: 1, to: 5 },
    imageSize: { columns: 64, slices: 20 },
    generator: 'test generator',
    models: { fused: identity, arterial: identity, venous: identity, localizer: identity },
    thresholds: { fused: 0.5, arterial: 0.5, venous: 0.5 },
    bootstrap: { replicates: 100, seed: 1 },
    seconds: 10,
    createdAt: '2024-01-01T00:00:00.000Z',
  });

  it('computes AUCs over the analysed studies, oracle AUCs over the same and over all', () => {
    expect(report.n).to.equal(5);
    expect(report.nAnalysed).to.equal(4);
    expect(report.refused).to.deep.equal({ 'tumour-not-found': 1 });
    expect(report.auc.fused).to.equal(1);
    // Arterial: pairs (high, low) = (0.7,0.4) (0.7,0.1) (0.3,0.4) (0.3,0.1): 3 of 4 right.
    expect(report.auc.arterial).to.equal(0.75);
    expect(report.auc.venous).to.equal(0.5);
    expect(report.oracleAuc.fused).to.equal(1);
    // All five: high oracle scores 0.9, 0.9, 0.7 vs low 0.1, 0.1: still perfect.
    expect(report.oracleAucAll.fused).to.equal(1);
    expect(report.prevalenceHigh).to.equal(0.5);
    expect(curves.all.fused[curves.all.fused.length - 1]).to.include({ truePositiveRate: 1, falsePositiveRate: 1 });
  });

  it('gives sensitivity and specificity at the threshold, and the ECE', () => {
    expect(report.sensitivity).to.equal(1);
    expect(report.specificity).to.equal(1);
    // Bins: 0.9 (high), 0.8 (high), 0.2 (low), 0.1 (low): |0.9-1|, |0.8-1|, |0.2-0|, |0.1-0| each weighted 1/4.
    expect(report.ece).to.be.closeTo((0.1 + 0.2 + 0.2 + 0.1) / 4, 1e-12);
  });

  it('counts refused studies as localiser misses and checks the goals', () => {
    expect(report.localiser.hitRate).to.equal(3 / 5);
    expect(report.localiser.medianVenousErrorMm).to.equal(2);
    // By size: the 15 mm miss and the 19.5 mm refusal in the smallest band, the rest (30 mm) hit.
    expect(report.localiser.hitRateBySize).to.deep.equal({ '< 20 mm': { n: 2, hitRate: 0 }, '>= 30 mm': { n: 3, hitRate: 1 } });
    expect(report.goals.fusedWithinOracle.met).to.be.true;
    expect(report.goals.fusedAboveSingle.value).to.equal(0.25);
    expect(report.goals.fusedAboveSingle.met).to.be.true;
    expect(report.goals.ece.met).to.be.false;
    expect(report.goals.localiserHitRate.met).to.be.false;
    expect(report.goals.cohortSize.met).to.be.false;
    expect(report.auc95ci.fused).to.deep.equal([1, 1]);
  });

  it('renders the model card table', () => {
    const table = evaluationTable(report);
    expect(table).to.contain('| fused (both phases) | 1.000 (1.000-1.000) | 1.000 |');
    expect(table).to.contain('refused: tumour-not-found 1');
    expect(table).to.contain('- NOT met: localiserHitRate');
    expect(table).to.contain('By tumour size: < 20 mm 0% of 2, >= 30 mm 100% of 3.');
  });

  it('refuses a cohort with one class only', () => {
    expect(() =>
      buildEvaluationReport({
        cohorts: [{ profile: 'baseline', heldOut: false, cases: cases.filter((c) => c.label === 'high'), failed: [], seconds: 1 }],
        seeds: { from: 1, to: 2 },
        imageSize: { columns: 64, slices: 20 },
        generator: 'test generator',
        models: { fused: identity, arterial: identity, venous: identity, localizer: identity },
        thresholds: { fused: 0.5, arterial: 0.5, venous: 0.5 },
        seconds: 1,
        createdAt: '',
      }),
    ).to.throw(/one class only/);
  });
});
