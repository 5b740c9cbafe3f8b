/** `tsr-node synth` argument handling and the oracle report (no images needed). */
import { expect } from 'chai';
import { main } from '../../../src/cli/main';

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

describe('tsr-node synth', () => {
  it('--oracle-report --count 500 prints the three oracle AUCs inside the designed ranges', async () => {
    const { code, out } = await capture(['--oracle-report', '--count', '500', '--seed', '4000']);
    expect(code).to.equal(0);
    const value = (label: string): number => Number(new RegExp(`${label}\\s+([0-9.]+)`).exec(out)?.[1]);
    expect(value('fused \\(both phases\\)')).to.be.within(0.9, 0.95);
    expect(value('arterial only')).to.be.within(0.75, 0.85);
    expect(value('venous only')).to.be.within(0.75, 0.85);
    expect(out).to.match(/500 studies from seed 4000/);
    expect(out).to.not.match(/OUTSIDE/);
  });

  it('a balanced oracle report has as many low as high studies', async () => {
    const { code, out } = await capture(['--oracle-report', '--count', '40', '--balance']);
    expect(code).to.equal(0);
    expect(out).to.match(/\(20 low, 20 high TSR\)/);
  });

  const refused: Array<[string, string[], RegExp]> = [
    ['no output named', ['--count', '2'], /--out DIR, --stow URL or --oracle-report/],
    ['a count that is not a number', ['--oracle-report', '--count', 'many'], /--count must be an integer/],
    ['an unknown encoding', ['--out', '/tmp/x', '--encoding', 'jpeg'], /--encoding must be one of/],
    ['--label with --balance', ['--oracle-report', '--label', 'low', '--balance'], /exclude each other/],
    ['an unknown option', ['--oracle-report', '--colour', 'red'], /Unknown option/],
  ];
  for (const [reason, argv, message] of refused) {
    it(`refuses ${reason} with exit code 2`, async () => {
      const { code, err } = await capture(argv);
      expect(code).to.equal(2);
      expect(err).to.match(message);
    });
  }
});
