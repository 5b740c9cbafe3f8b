/** `tsr-node synth --profile`: the cohort's studies and oracle report of a centre profile. */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../src/cli/main';
import { CENTRE_PROFILE_NAMES, loadCentreProfile, studyOracleCase, type SyntheticGroundTruth } from '../../../src/synthetic';

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...args: unknown[]) => void out.push(args.join(' '));
  console.error = (...args: unknown[]) => void err.push(args.join(' '));
  try {
    const code = await main(['synth', ...argv]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

const value = (out: string, label: string): number => Number(new RegExp(`${label}\\s+([0-9.]+)`).exec(out)?.[1]);

describe('tsr-node synth --profile', function () {
  this.timeout(120_000);

  it('--oracle-report --profile names the profile and judges each randomised profile against its own design', async () => {
    for (const name of CENTRE_PROFILE_NAMES.filter((profile) => profile !== 'baseline')) {
      const { code, out } = await capture(['--oracle-report', '--count', '500', '--seed', '1000000', '--profile', name]);
      expect(code).to.equal(0);
      expect(out).to.match(new RegExp(`500 studies from seed 1000000 of centre profile ${name}`));
      const design = loadCentreProfile(name).oracleDesign;
      expect(value(out, 'fused \\(both phases\\)'), name).to.be.within(design.fused[0], design.fused[1]);
      expect(value(out, 'arterial only'), name).to.be.within(design.singlePhase[0], design.singlePhase[1]);
      expect(out, name).to.not.match(/OUTSIDE/);
    }
  });

  it('--profile baseline prints what no profile prints', async () => {
    const plain = await capture(['--oracle-report', '--count', '300', '--seed', '4000']);
    const named = await capture(['--oracle-report', '--count', '300', '--seed', '4000', '--profile', 'baseline']);
    expect(named.out).to.equal(plain.out);
  });

  it('writes the profile and its draws into each ground truth, and the oracle of the written studies is the report\'s', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-synth-profile-'));
    try {
      const { code, out } = await capture(['--out', dir, '--seed', '300', '--count', '2', '--columns', '32', '--slices', '8', '--extras', 'none', '--profile', 'heldout-thick-older', '--oracle-report', '--no-progress']);
      expect(code).to.equal(0);
      expect(out).to.match(/centre profile heldout-thick-older/);
      for (const [k, study] of ['study-0001', 'study-0002'].entries()) {
        const truth = JSON.parse(readFileSync(path.join(dir, study, 'ground-truth.json'), 'utf8')) as SyntheticGroundTruth;
        expect(truth.profile).to.equal('heldout-thick-older');
        expect([2.5, 3, 5]).to.include(truth.randomisation!.acquisition.sliceThicknessMm);
        // The report (no images) computes the same oracle as the rendered study's ground truth.
        const oracle = studyOracleCase(300 + k, 'heldout-thick-older').oracle;
        for (const key of ['fused', 'arterial', 'venous'] as const) expect(truth.tumour.oracle[key]).to.be.closeTo(oracle[key], 1e-9);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--preview writes a PNG with one column of two phase panels per study, and refuses more than 8 studies', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-synth-preview-'));
    try {
      const file = path.join(dir, 'preview.png');
      const { code } = await capture(['--preview', file, '--seed', '5', '--count', '3', '--columns', '48', '--slices', '8', '--profile', 'training', '--no-progress']);
      expect(code).to.equal(0);
      const png = readFileSync(file);
      expect(png.subarray(1, 4).toString('ascii')).to.equal('PNG');
      // IHDR: width and height, big-endian, at bytes 16 and 20: a row label plus 3 panels of 256, a caption plus 2 panels.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).to.deep.equal([22 + 3 * 256, 64 + 2 * 256]);
      const refused = await capture(['--preview', file, '--count', '9']);
      expect(refused.code).to.equal(2);
      expect(refused.err).to.match(/at most 8 studies/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown profile with exit code 2 and the known names', async () => {
    const { code, err } = await capture(['--oracle-report', '--profile', 'centre-x']);
    expect(code).to.equal(2);
    expect(err).to.match(/--profile must be one of baseline, /);
  });
});
