import { expect } from 'chai';
import { evaluationMarkdown, profileSummaryTable } from '../../../src/evaluation/evaluationTables';
import { reportOf, twoProfileCohorts } from './reportFixture';

describe('evaluation report per centre profile', () => {
  const { report, curves } = reportOf(twoProfileCohorts());
  const [alpha, beta] = report.profiles;

  it('gives each profile its own figures, and all studies together at the top', () => {
    expect(report.profiles.map((p) => [p.profile, p.heldOut])).to.deep.equal([['alpha', false], ['beta', true]]);
    expect(alpha.n).to.equal(5);
    expect(alpha.auc.fused).to.equal(1);
    // Beta: highs 0.6, 0.3 against lows 0.4, 0.1: three pairs of four in order.
    expect(beta.n).to.equal(4);
    expect(beta.auc.fused).to.equal(0.75);
    // Pooled: highs 0.9 0.8 0.6 0.3, lows 0.2 0.1 0.4 0.1: only 0.3 < 0.4 out of order, 15 of 16.
    expect(report.n).to.equal(9);
    expect(report.auc.fused).to.equal(15 / 16);
    expect(report.cohort).to.match(/alpha, beta/);
    expect(Object.keys(curves.byProfile)).to.deep.equal(['alpha', 'beta']);
  });

  it('counts refusals, wrong-place results and small tumours per profile', () => {
    expect(alpha.localiser.refused).to.deep.equal({ n: 1, rate: 1 / 5 });
    expect(alpha.localiser.wrongPlace).to.deep.equal({ n: 1, rate: 1 / 5 });
    expect(alpha.localiser.hitRate).to.equal(3 / 5);
    // The 15 mm tumour (wrong place) and the 19.5 mm one (refused): none of two found.
    expect(alpha.localiser.smallTumours).to.equal(2);
    expect(alpha.localiser.smallTumourHitRate).to.equal(0);
    expect(beta.localiser.smallTumourHitRate).to.be.null;
    expect(beta.localiser.wrongPlace.n).to.equal(0);
    expect(report.localiser.wrongPlace.n).to.equal(1);
    expect(alpha.imageSizes).to.deep.equal({ columns: [64, 64], slices: [20, 20], sliceSpacingMm: [2.5, 2.5] });
  });

  it('keeps the one-cohort shape when one profile is evaluated', () => {
    const single = reportOf(twoProfileCohorts().slice(1)).report;
    expect(single.cohort).to.equal('beta');
    expect(single.auc).to.deep.equal(single.profiles[0].auc);
    expect(single.localiser).to.deep.equal(single.profiles[0].localiser);
    // The top level times the whole run, the profile its own cohort.
    expect(single.timing.seconds).to.equal(10);
    expect(single.profiles[0].timing.seconds).to.equal(4);
  });

  it('refuses a profile listed twice, and names the profile whose cohort cannot be evaluated', () => {
    const cohorts = twoProfileCohorts();
    expect(() => reportOf([cohorts[0], cohorts[0]])).to.throw(/listed twice/);
    const oneClass = { ...cohorts[1], cases: cohorts[1].cases.filter((c) => c.label === 'low') };
    expect(() => reportOf([cohorts[0], oneClass])).to.throw(/profile beta: .*one class only/);
  });

  it('writes a row per profile and a section with its ROC plot', () => {
    const rows = profileSummaryTable(report);
    expect(rows).to.have.length(4);
    expect(rows[2]).to.match(/^\| alpha \| training profile, held-out seeds \| 5 \| 4 \| 1\.000 /);
    expect(rows[3]).to.match(/^\| beta \| held out \| 4 \| 4 \| 0\.750 /);
    // Refused and wrong place, 1 of 5 each, the last two columns of alpha's row.
    expect(rows[2]).to.match(/\| 20\.0% \| 20\.0% \|$/);
    const markdown = evaluationMarkdown(report, (p) => `roc-${p}.png`);
    expect(markdown).to.contain('## alpha').and.contain('## beta').and.contain('## All profiles together');
    expect(markdown).to.contain('(roc-beta.png)');
    expect(markdown).to.contain('confident about the wrong place in 1 (20.0%)');
  });
});
