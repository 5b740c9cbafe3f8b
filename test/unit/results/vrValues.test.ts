import { expect } from 'chai';
import { clipText, validVrValue } from '../../../src/results/vrValues';
import { distinctChanges, validElementValues, validSourceString } from '../../../src/results/validSourceValues';

/** The value validVrValue writes and what it says it changed. */
const valid = (vr: string, value: unknown): [unknown, string[]] => {
  const result = validVrValue(vr, value);
  return [result.value, result.changes];
};

describe('results/vrValues: copied values made valid for their VR (PS3.5 6.2)', () => {
  it('leaves valid values exactly as they are, empty ones included', () => {
    const cases: Array<[string, unknown]> = [
      ['PN', { Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }],
      ['LO', 'CT abdomen pancreas'],
      ['SH', 'ACC42'],
      ['CS', 'F'],
      ['DA', '20240229'],
      ['TM', '101530.25'],
      ['DT', '20240101101530.123456+0100'],
      ['AS', '063Y'],
      ['DS', 72.5],
      ['DS', '72.5'],
      ['IS', 12],
      ['UI', '1.2.840.10008.1.2.1'],
      ['LT', 'line one\r\nline two\twith a tab'],
      ['US', 3],
      ['FD', 1.5],
      ['LO', null],
      ['DA', ''],
    ];
    for (const [vr, value] of cases) expect(valid(vr, value), `${vr} ${JSON.stringify(value)}`).to.deep.equal([value, []]);
  });

  it('PN: clips each component group to 64 characters', () => {
    const [value, changes] = valid('PN', { Alphabetic: `${'A'.repeat(100)}^B`, Ideographic: '山田^太郎' });
    expect(value).to.deep.equal({ Alphabetic: 'A'.repeat(64), Ideographic: '山田^太郎' });
    expect(changes).to.deep.equal(['clipped']);
  });

  it('PN: removes control characters (LF, CR, BEL, ESC) and replaces delimiters inside a group', () => {
    expect(valid('PN', { Alphabetic: 'Doe\n^Jane\u0007\r\u001b' })).to.deep.equal([{ Alphabetic: 'Doe^Jane' }, ['control-characters-removed']]);
    expect(valid('PN', { Alphabetic: 'Doe\\Roe^Jane=X' })).to.deep.equal([{ Alphabetic: 'Doe Roe^Jane X' }, ['delimiter-replaced']]);
  });

  it('PN as "=" delimited text: each group on its own', () => {
    expect(valid('PN', `${'B'.repeat(70)}=山田`)).to.deep.equal([`${'B'.repeat(64)}=山田`, ['clipped']]);
  });

  it('LO and SH: clipped to 64 and 16 characters', () => {
    expect(valid('LO', 'x'.repeat(65))).to.deep.equal(['x'.repeat(64), ['clipped']]);
    expect(valid('SH', 'ACCESSION-1234567890')).to.deep.equal(['ACCESSION-123456', ['clipped']]);
  });

  it('LO, SH: control characters removed, TAB too; the backslash replaced by a space', () => {
    expect(valid('LO', 'CT\tabdomen\u0000')).to.deep.equal(['CTabdomen', ['control-characters-removed']]);
    expect(valid('SH', 'A\\B')).to.deep.equal(['A B', ['delimiter-replaced']]);
  });

  it('LT, ST: keep TAB, LF, FF and CR and the backslash, drop other controls, clip to 10240 and 1024', () => {
    expect(valid('LT', 'a\tb\nc\fd\re\\f\u0000\u0085')).to.deep.equal(['a\tb\nc\fd\re\\f', ['control-characters-removed']]);
    expect(valid('ST', 's'.repeat(1025))).to.deep.equal(['s'.repeat(1024), ['clipped']]);
    expect(valid('LT', 'l'.repeat(10241))).to.deep.equal(['l'.repeat(10240), ['clipped']]);
  });

  it('clipping never splits a surrogate pair', () => {
    expect(clipText('a😀', 2)).to.equal('a');
    expect(clipText('a😀', 3)).to.equal('a😀');
  });

  it('CS: upper-cased, spaces trimmed; dropped when another character or over 16', () => {
    expect(valid('CS', 'f')).to.deep.equal(['F', ['upper-cased']]);
    expect(valid('CS', ' M ')).to.deep.equal(['M', ['spaces-trimmed']]);
    expect(valid('CS', 'NO-SMOKER')).to.deep.equal([undefined, ['invalid-dropped']]);
    expect(valid('CS', 'A'.repeat(17))).to.deep.equal([undefined, ['invalid-dropped']]);
  });

  it('DA: a real YYYYMMDD date, or dropped', () => {
    expect(valid('DA', '20261399')[0]).to.equal(undefined);
    expect(valid('DA', '20230229')[0], 'not a leap year').to.equal(undefined);
    expect(valid('DA', '20000229')[0], 'a leap year').to.equal('20000229');
    expect(valid('DA', '1960.01.31')[0], 'ACR-NEMA form').to.equal(undefined);
    expect(valid('DA', '20240431')[1]).to.deep.equal(['invalid-dropped']);
  });

  it('TM: HH[MM[SS[.F{1,6}]]] within range (a leap second allowed), or dropped', () => {
    for (const ok of ['10', '1015', '235960', '101530.123456']) expect(valid('TM', ok)[0], ok).to.equal(ok);
    for (const bad of ['24', '1060', '101561', '10:15:30', '101530.1234567', '1']) expect(valid('TM', bad)[0], bad).to.equal(undefined);
  });

  it('DT: a date, time and offset within range, or dropped', () => {
    for (const ok of ['2024', '202402', '20240229235960.5-1200', '20240101+1400']) expect(valid('DT', ok)[0], ok).to.equal(ok);
    for (const bad of ['20241301', '20240101250000', '20240101+1500', '20240101-1201', '20240101+0160']) expect(valid('DT', bad)[0], bad).to.equal(undefined);
  });

  it('AS: nnnD, nnnW, nnnM or nnnY, or dropped', () => {
    expect(valid('AS', '018M')[0]).to.equal('018M');
    expect(valid('AS', '63Y')[0]).to.equal(undefined);
    expect(valid('AS', '063y')[0]).to.equal(undefined);
  });

  it('UI: digits and dots, 64 at most; NUL padding removed; else dropped', () => {
    expect(valid('UI', '1.2.3\u0000')).to.deep.equal(['1.2.3', ['control-characters-removed']]);
    expect(valid('UI', '1.2.abc')[0]).to.equal(undefined);
    expect(valid('UI', `1.${'2'.repeat(63)}`)[0]).to.equal(undefined);
  });

  it('DS: a decimal number; an over-long string becomes the number it holds, non-numbers are dropped', () => {
    expect(valid('DS', ' 72.5 ')).to.deep.equal(['72.5', ['spaces-trimmed']]);
    expect(valid('DS', '72.500000000000000001')).to.deep.equal([72.5, ['reformatted']]);
    expect(valid('DS', 'heavy')[0]).to.equal(undefined);
    expect(valid('DS', Number.NaN)[0]).to.equal(undefined);
  });

  it('IS: an integer from -2^31 to 2^31-1, or dropped', () => {
    expect(valid('IS', '42')[0]).to.equal('42');
    expect(valid('IS', 2147483648)[0]).to.equal(undefined);
    expect(valid('IS', '4.5')[0]).to.equal(undefined);
  });

  it('US: an integer from 0 to 65535, or dropped', () => {
    expect(valid('US', 65535)[0]).to.equal(65535);
    expect(valid('US', 65536)[0]).to.equal(undefined);
    expect(valid('US', -1)[0]).to.equal(undefined);
  });
});

describe('results/validSourceValues: elements and sequences, changes without values', () => {
  it('drops invalid values, keeps the valid ones, and names each change once', () => {
    const element = { vr: 'PN', Value: [{ Alphabetic: 'x'.repeat(70) }, { Alphabetic: 'y'.repeat(70) }] };
    const result = validElementValues(element, 'PN', { keyword: 'OtherPatientNames', tag: '00101001' });
    expect(result.values).to.deep.equal([{ Alphabetic: 'x'.repeat(64) }, { Alphabetic: 'y'.repeat(64) }]);
    expect(result.changes).to.deep.equal([{ keyword: 'OtherPatientNames', tag: '00101001', vr: 'PN', change: 'clipped' }]);
  });

  it('keeps the first value of a single-valued attribute (VM 1)', () => {
    const result = validElementValues({ vr: 'PN', Value: [{ Alphabetic: 'Doe' }, { Alphabetic: 'Roe' }] }, 'PN', { keyword: 'PatientName', tag: '00100010' });
    expect(result.values).to.deep.equal([{ Alphabetic: 'Doe' }]);
    expect(result.changes.map((c) => c.change)).to.deep.equal(['extra-values-dropped']);
  });

  it('returns the very same array when nothing changed', () => {
    const element = { vr: 'LO', Value: ['fine'] };
    expect(validElementValues(element, 'LO', { keyword: 'PatientID', tag: '00100020' }).values).to.equal(element.Value);
  });

  it('makes the items of a sequence valid too, naming the path, by the dictionary VR', () => {
    const sequence = {
      vr: 'SQ',
      Value: [{ '00080100': { vr: 'SH', Value: ['X1'] }, '00080104': { vr: 'LO', Value: ['m'.repeat(80)] }, '00080105': { vr: 'CS', Value: ['dcmr'] } }],
    };
    const result = validElementValues(sequence, 'SQ', { keyword: 'ProcedureCodeSequence', tag: '00081032' });
    const item = result.values[0] as Record<string, { Value: unknown[] }>;
    expect(item['00080100'].Value).to.deep.equal(['X1']);
    expect(item['00080104'].Value).to.deep.equal(['m'.repeat(64)]);
    expect(item['00080105'].Value).to.deep.equal(['DCMR']);
    expect(result.changes).to.deep.equal([
      { keyword: 'ProcedureCodeSequence>CodeMeaning', tag: '00081032>00080104', vr: 'LO', change: 'clipped' },
      { keyword: 'ProcedureCodeSequence>MappingResource', tag: '00081032>00080105', vr: 'CS', change: 'upper-cased' },
    ]);
  });

  it('writes an item element with no valid value empty, and leaves bulk data out', () => {
    const sequence = { vr: 'SQ', Value: [{ '00100030': { vr: 'DA', Value: ['20261399'] }, '00420011': { vr: 'OB', BulkDataURI: 'http://pacs/bulk' } }] };
    const result = validElementValues(sequence, 'SQ', { keyword: 'OtherPatientIDsSequence', tag: '00101002' });
    expect(result.values).to.deep.equal([{ '00100030': { vr: 'DA', Value: [] } }]);
    expect(result.changes.map((c) => c.change)).to.deep.equal(['invalid-dropped', 'invalid-dropped']);
  });

  it('reads one string attribute valid, or none', () => {
    expect(validSourceString({ '00200052': { vr: 'UI', Value: ['1.2.3'] } }, '00200052', 'UI')).to.deep.equal({ value: '1.2.3', changes: [] });
    const invalid = validSourceString({ '00200052': { vr: 'UI', Value: ['not-a-uid'] } }, '00200052', 'UI');
    expect(invalid).to.deep.equal({ changes: [{ keyword: 'FrameOfReferenceUID', tag: '00200052', vr: 'UI', change: 'invalid-dropped' }] });
    expect(validSourceString({}, '00200052', 'UI')).to.deep.equal({ changes: [] });
  });

  it('lists each attribute and change once', () => {
    const change = { keyword: 'FrameOfReferenceUID', tag: '00200052', vr: 'UI', change: 'invalid-dropped' as const };
    expect(distinctChanges([change, { ...change }])).to.deep.equal([change]);
  });
});
