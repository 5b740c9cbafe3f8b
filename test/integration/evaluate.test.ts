/**
 * `tsr-node evaluate` end to end with the tiny fixture models (not trained: the figures mean
 * nothing, the path and the outputs are what is checked) on a small held-out cohort, with one
 * centre profile (the default) and with two.
 */
import { expect } from 'chai';
import { loadImage } from '@napi-rs/canvas';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import type { EvaluationCase } from '../../src/evaluation/evaluationCase';
import type { EvaluationReport } from '../../src/evaluation/evaluationReport';
import { rocAuc } from '../../src/statistics/roc';

const TINY_MODELS = path.resolve(__dirname, '../fixtures/tiny-models');

async function runCli(argv: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (s: string) => stdout.push(s);
  console.error = (s: string) => stderr.push(s);
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('tsr-node evaluate (tiny fixture models, small held-out cohort)', function () {
  this.timeout(180_000);
  let out: string;
  before(() => {
    out = mkdtempSync(path.join(os.tmpdir(), 'tsr-evaluate-'));
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('refuses training seeds', async () => {
    const { code, stderr } = await runCli(['evaluate', '--seed', '999999', '--count', '5', '--out', out, '--models-dir', TINY_MODELS]);
    expect(code).to.equal(2);
    expect(stderr.join('\n')).to.match(/evaluation seeds must start at 1000000/);
  });

  it('writes evaluation.json, cases.json, evaluation.md and roc.png for the three models', async () => {
    const { code, stdout } = await runCli([
      'evaluate', '--seed', '1000000', '--count', '8', '--out', out, '--models-dir', TINY_MODELS,
      '--columns', '64', '--slices', '20', '--workers', '2', '--bootstrap', '100', '--no-progress',
    ]);
    expect(code).to.equal(0);
    expect(stdout).to.deep.equal([path.join(out, 'evaluation.json')]);
    const report = JSON.parse(readFileSync(path.join(out, 'evaluation.json'), 'utf8')) as EvaluationReport;
    const cases = JSON.parse(readFileSync(path.join(out, 'cases.json'), 'utf8')) as EvaluationCase[];
    expect(report.n).to.equal(8);
    expect(cases.map((c) => c.seed)).to.deep.equal([1000000, 1000001, 1000002, 1000003, 1000004, 1000005, 1000006, 1000007]);
    for (const key of ['n', 'auc', 'oracleAuc', 'auc95ci', 'ece', 'sensitivity', 'specificity', 'threshold', 'localiser', 'goals']) expect(report).to.have.property(key);
    for (const role of ['fused', 'arterial', 'venous'] as const) {
      expect(report.auc[role]).to.be.within(0, 1);
      expect(report.auc95ci[role][0]).to.be.at.most(report.auc95ci[role][1]);
    }
    // The report's AUC is the AUC of the per-study predictions it wrote.
    const analysed = cases.filter((c) => c.analysed);
    expect(report.nAnalysed).to.equal(analysed.length);
    expect(report.auc.fused).to.equal(rocAuc(analysed.map((c) => c.probabilities!.fused), analysed.map((c) => c.label === 'high')));
    // The oracle comes from the generator's ground truth: its fused AUC is high on any cohort.
    expect(report.oracleAuc.fused).to.be.above(0.7);
    expect(report.models.fused.name).to.equal('tsr-clip-fusion');
    expect(report.models.localizer.name).to.equal('tsr-localizer');
    expect(readFileSync(path.join(out, 'evaluation.md'), 'utf8')).to.contain('| arterial only |');
    const png = await loadImage(readFileSync(path.join(out, 'roc.png')));
    expect(png.width).to.equal(800);
    // One profile (the default, baseline): the top level is that profile's cohort.
    expect(report.profiles.map((p) => p.profile)).to.deep.equal(['baseline']);
    expect(report.profiles[0].auc).to.deep.equal(report.auc);
    expect(cases.every((c) => c.profile === 'baseline')).to.be.true;
  });

  it('refuses an unknown profile before generating anything', async () => {
    const { code, stderr } = await runCli(['evaluate', '--seed', '1000000', '--count', '2', '--out', out, '--models-dir', TINY_MODELS, '--profile', 'baseline,no-such-centre']);
    expect(code).to.equal(2);
    expect(stderr.join('\n')).to.match(/unknown centre profile "no-such-centre"; known profiles: .*heldout-384/);
  });

  it('evaluates the same held-out seeds with each profile (--profile baseline,heldout-384)', async () => {
    const dir = path.join(out, 'profiles');
    const { code, stderr } = await runCli([
      'evaluate', '--seed', '1000000', '--count', '8', '--out', dir, '--models-dir', TINY_MODELS, '--profile', 'baseline,heldout-384',
      '--columns', '64', '--slices', '20', '--workers', '2', '--bootstrap', '50', '--no-progress',
    ]);
    expect(code, stderr.join('\n')).to.equal(0);
    expect(stderr.join('\n')).to.contain('profile heldout-384 (held out): n = 8');
    const report = JSON.parse(readFileSync(path.join(dir, 'evaluation.json'), 'utf8')) as EvaluationReport;
    const cases = JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as EvaluationCase[];
    expect(report.profiles.map((p) => [p.profile, p.heldOut])).to.deep.equal([['baseline', false], ['heldout-384', true]]);
    expect(report.n).to.equal(16);
    for (const profile of report.profiles) {
      const own = cases.filter((c) => c.profile === profile.profile);
      expect(own.map((c) => c.seed)).to.deep.equal([1000000, 1000001, 1000002, 1000003, 1000004, 1000005, 1000006, 1000007]);
      // The profile's figures are those of its own studies.
      const analysed = own.filter((c) => c.analysed);
      expect(profile.nAnalysed).to.equal(analysed.length);
      expect(profile.auc.fused).to.equal(rocAuc(analysed.map((c) => c.probabilities!.fused), analysed.map((c) => c.label === 'high')));
      expect(profile.oracleAucAll.fused).to.equal(rocAuc(own.map((c) => c.oracle.fused), own.map((c) => c.label === 'high')));
      // Every study is found, refused, or confidently placed outside its tumour.
      const hits = own.filter((c) => c.localisation?.venousHit).length;
      expect(hits + profile.localiser.refused.n + profile.localiser.wrongPlace.n).to.equal(8);
      expect(readFileSync(path.join(dir, `roc-${profile.profile}.png`)).subarray(1, 4).toString()).to.equal('PNG');
    }
    // Same seeds, other studies: the held-out centre reconstructs its own slices (1-2.5 mm; baseline's are
    // stretched over the body at 20 slices).
    const [baseline, heldOut] = report.profiles;
    expect(heldOut.imageSizes!.sliceSpacingMm[1]).to.be.at.most(2.5);
    expect(baseline.imageSizes!.sliceSpacingMm[0]).to.be.above(2.5);
    const markdown = readFileSync(path.join(dir, 'evaluation.md'), 'utf8');
    expect(markdown).to.match(/\| baseline \| training profile, held-out seeds \| 8 \|/);
    expect(markdown).to.match(/\| heldout-384 \| held out \| 8 \|/);
    expect(markdown).to.contain('(roc-heldout-384.png)');
  });
});
