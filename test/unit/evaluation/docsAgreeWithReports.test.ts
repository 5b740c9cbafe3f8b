/**
 * The figures users read are the reports' (issue 21 item 4): README.md and docs/model-card.md
 * quote evaluation figures between markers only, written by `node scripts/write-doc-figures.js`
 * from docs/evaluation/<report>/evaluation.json. This fails when a document was edited by hand or
 * a report changed without writing the documents again.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { countFigureMarkers, FIGURE_DOCUMENTS, loadDocReports, writeFigures } from '../../../src/evaluation/docFigures';
import { PROJECT_ROOT } from '../../../src/paths';
import { CENTRE_PROFILE_NAMES, loadCentreProfile } from '../../../src/synthetic';

describe('README.md and docs/model-card.md agree with the committed evaluation reports (docs/evaluation/)', () => {
  const reports = loadDocReports();

  it('has the report of the shipped models on the 400 baseline studies', () => {
    const baseline = reports['baseline-400'];
    expect(baseline, 'docs/evaluation/baseline-400/evaluation.json').to.exist;
    expect(baseline.n).to.equal(400);
    const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models', 'tsr-clip-fusion.json'), 'utf8')) as { sha256: string };
    expect(baseline.models.fused.sha256, 'the report evaluated the shipped fused model').to.equal(manifest.sha256);
  });

  for (const document of FIGURE_DOCUMENTS) {
    it(`${document}: every figure between markers is the report's (node scripts/write-doc-figures.js writes them)`, () => {
      const text = readFileSync(path.join(PROJECT_ROOT, document), 'utf8');
      expect(countFigureMarkers(text)).to.be.above(0);
      expect(writeFigures(text, reports)).to.equal(text);
    });
  }

  it('the model card has a row, with its oracle AUC, for every held-out centre profile', () => {
    const card = readFileSync(path.join(PROJECT_ROOT, 'docs', 'model-card.md'), 'utf8');
    const heldOut = CENTRE_PROFILE_NAMES.filter((name) => loadCentreProfile(name).heldOut);
    expect(heldOut).to.have.length.above(0);
    for (const name of heldOut) {
      const evaluated = Object.values(reports).flatMap((r) => r.profiles).find((p) => p.profile === name);
      expect(evaluated, `a committed report evaluates ${name}`).to.exist;
      expect(card).to.contain(`| ${name} | held out | ${evaluated!.n} |`);
      const row = card.split('\n').find((line) => line.startsWith(`| ${name} | held out |`))!;
      expect(row.split(' | ')[7]).to.equal(evaluated!.oracleAucAll.fused.toFixed(3));
    }
  });

  it('README quotes the fused AUC of the 400 baseline studies from the report', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).to.contain('<!-- figure baseline-400 auc.fused -->');
  });
});
