import { expect } from 'chai';
import { figureAt, writeFigures } from '../../../src/evaluation/docFigures';
import { reportOf, twoProfileCohorts } from './reportFixture';

describe('evaluation/docFigures: figures written from the reports', () => {
  const reports = { demo: reportOf(twoProfileCohorts()).report };

  it('writes a value between its markers, in the format asked for', () => {
    const text = 'AUC <!-- figure demo profiles.beta.auc.fused -->0.999<!-- /figure --> and <!-- figure demo localiser.hitRate pct1 --><!-- /figure -->.';
    expect(writeFigures(text, reports)).to.equal('AUC <!-- figure demo profiles.beta.auc.fused -->0.750<!-- /figure --> and <!-- figure demo localiser.hitRate pct1 -->77.8%<!-- /figure -->.');
  });

  it('writes counts, intervals and the size bands', () => {
    const write = (figure: string, format: string): string => writeFigures(`<!-- figure demo ${figure} ${format} --><!-- /figure -->`, reports).replace(/<!--[^>]*-->/g, '');
    expect(write('n', 'int')).to.equal('9');
    expect(write('profiles.alpha.auc95ci.fused', 'ci')).to.equal('1.000-1.000');
    expect(write('profiles.alpha.localiser.hitRateBySize', 'sizebands')).to.equal('under 20 mm 0% (of 2), 30 mm and more 100% (of 3)');
    expect(write('timing.seconds', 'minutes')).to.equal('0.2');
    expect(write('models.fused.version', 'text')).to.equal('1');
  });

  it('replaces a table block whole, and leaves the text around it', () => {
    const text = 'before\n<!-- figures demo profiles -->\n| stale |\n<!-- /figures -->\nafter';
    const written = writeFigures(text, reports);
    expect(written).to.match(/^before\n<!-- figures demo profiles -->\n\| profile \|/);
    expect(written).to.contain('| beta | held out | 4 |');
    expect(written).not.to.contain('stale');
    expect(written.endsWith('<!-- /figures -->\nafter')).to.be.true;
    expect(writeFigures(written, reports)).to.equal(written);
  });

  it('lists the profiles of several reports in one table, in order', () => {
    const both = { ...reports, other: reportOf(twoProfileCohorts().slice(0, 1)).report };
    const written = writeFigures('<!-- figures other,demo profiles -->\n<!-- /figures -->', both);
    expect(written.split('\n').filter((line) => /^\| (alpha|beta) /.test(line)).map((line) => line.split(' | ')[0])).to.deep.equal(['| alpha', '| alpha', '| beta']);
    expect(() => writeFigures('<!-- figures other,demo models -->\n<!-- /figures -->', both)).to.throw(/one report/);
  });

  it('fails on an unknown report, path, format or table', () => {
    expect(() => writeFigures('<!-- figure nope auc.fused --><!-- /figure -->', reports)).to.throw(/no evaluation report "nope"/);
    expect(() => writeFigures('<!-- figure demo auc.nothing --><!-- /figure -->', reports)).to.throw(/nothing at auc\.nothing/);
    expect(() => writeFigures('<!-- figure demo profiles.gamma.n --><!-- /figure -->', reports)).to.throw(/no gamma/);
    expect(() => writeFigures('<!-- figure demo auc.fused pct9 --><!-- /figure -->', reports)).to.throw(/unknown figure format/);
    expect(() => writeFigures('<!-- figure demo auc int --><!-- /figure -->', reports)).to.throw(/needs a number/);
    expect(() => writeFigures('<!-- figures demo nope -->\n<!-- /figures -->', reports)).to.throw(/unknown figures table/);
    expect(figureAt(reports.demo, 'profiles.alpha.heldOut')).to.equal(false);
  });
});
