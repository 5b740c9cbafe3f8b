import { expect } from 'chai';
import { LabelsFileError, parseLabelsCsv } from '../../../src/dataset/labels';
import { createProgressBar } from '../../../src/common/progressBar';
import { parseSeedRange, checkTrainingSeeds, checkEvaluationSeeds, SeedRangeError } from '../../../src/common/seedRanges';

describe('dataset/labels: the labels CSV', () => {
  it('reads the synthetic cohort form, with a header and centres', () => {
    const rows = parseLabelsCsv('StudyInstanceUID,label,centreX,centreY,centreZ\n2.25.1,low,1.5,-2,30.25\n2.25.2,HIGH,,,\n');
    expect(rows).to.deep.equal([
      { studyInstanceUID: '2.25.1', label: 'low', centreMm: [1.5, -2, 30.25], line: 2 },
      { studyInstanceUID: '2.25.2', label: 'high', line: 3 },
    ]);
  });

  it('reads the two-column form, CRLF line ends, quotes, comments and blank lines', () => {
    const rows = parseLabelsCsv('\uFEFF# exported 2024\r\n"1.2.3",low\r\n\r\n1.2.4 , high\r\n');
    expect(rows.map((r) => [r.studyInstanceUID, r.label])).to.deep.equal([
      ['1.2.3', 'low'],
      ['1.2.4', 'high'],
    ]);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['1.2.3,medium', 'a label other than low/high', /line 1: label must be "low" or "high", got "medium"/],
    ['1.2.3', 'a missing label', /line 1: expected 2 or 5 fields/],
    ['1.2.3,low,1,2', 'a centre with two numbers', /expected 2 or 5 fields .*, got 4/],
    ['1.2.3,low,1,x,3', 'a centre that is not numeric', /the centre must be three numbers/],
    ['1.2.3,low,1,,3', 'a partly blank centre', /the centre must be three numbers/],
    ['abc,low', 'a study id that is not a UID', /"abc" is not a DICOM UID/],
    ['1.2.3,low\n1.2.3,high', 'a study listed twice', /line 2: study 1.2.3 is already listed on line 1/],
  ];
  for (const [text, what, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => parseLabelsCsv(text)).to.throw(LabelsFileError, message);
    });
  }
});

describe('evaluation/seedRanges: training and evaluation seeds never overlap', () => {
  it('parses A..B and A', () => {
    expect(parseSeedRange('0..1999')).to.deep.equal({ from: 0, to: 1999 });
    expect(parseSeedRange(' 42 ')).to.deep.equal({ from: 42, to: 42 });
    expect(() => parseSeedRange('5..2')).to.throw(SeedRangeError, /ends before it starts/);
    expect(() => parseSeedRange('1-3')).to.throw(SeedRangeError, /must look like A..B/);
  });
  it('keeps training below 1,000,000 and evaluation from it on', () => {
    expect(() => checkTrainingSeeds(0, 999_999)).to.not.throw();
    expect(() => checkTrainingSeeds(999_990, 1_000_000)).to.throw(SeedRangeError, /below 1000000/);
    expect(() => checkEvaluationSeeds(1_000_000, 400)).to.not.throw();
    expect(() => checkEvaluationSeeds(999_999, 1)).to.throw(SeedRangeError, /start at 1000000/);
    expect(() => checkEvaluationSeeds(1_000_000, 0)).to.throw(SeedRangeError, /--count/);
  });
});

describe('dataset/progressBar', () => {
  it('prints every 5% and a final line when not on a terminal', () => {
    const lines: string[] = [];
    let t = 0;
    const bar = createProgressBar({ total: 40, label: 'dataset', stream: { write: (s: string) => lines.push(s) > 0, isTTY: false }, now: () => t });
    for (let n = 0; n < 40; n++) {
      t += 500;
      bar.tick(1, n === 3);
    }
    bar.done();
    expect(lines).to.have.length(20);
    expect(lines[19]).to.match(/^dataset \[#{30}\] 40\/40 \(100%, 1 skipped\) 2\.00\/s elapsed 0:20 eta 0:00\n$/);
  });
  it('redraws one line on a terminal', () => {
    const out: string[] = [];
    const bar = createProgressBar({ total: 2, label: 'x', stream: { write: (s: string) => out.push(s) > 0, isTTY: true }, now: () => 0 });
    bar.tick();
    bar.done();
    expect(out[0].startsWith('\r')).to.be.true;
    expect(out[out.length - 1]).to.equal('\n');
  });
});
