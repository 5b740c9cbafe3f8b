/**
 * The checks before any pixel is used (src/study/pixelChecks.ts and the plan's size limits), one
 * by one: each refuses with its own code and a message that names the instance, the series, the
 * attribute (keyword and tag) and the numbers. The fuzz suite (fuzzDamage.test.ts) covers them in
 * combination.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TAG, TRANSFER_SYNTAX } from '../../../src/dicom/dictionary';
import { PROJECT_ROOT } from '../../../src/paths';
import { parseInstance, type ParsedInstance } from '../../../src/study/instanceParser';
import { checkCtRescale, checkRescale } from '../../../src/study/pixelChecks';
import { decodePixels, nativePixels } from '../../../src/study/pixelDecoding';
import { sliceDescriptorFromParsed, VolumeAssembly } from '../../../src/study/volumeAssembly';
import { planVolume, planVolumeOrThrow, type SliceDescriptor } from '../../../src/study/volumePlan';
import { refusal, refusalSync } from '../../harness/refusal';
import { damagedSlice, type Damage } from './fuzzDamage';
import { ENCODINGS, metaElements, seriesUids, sliceElements, writePart10, type SeriesSpec } from './fuzzSeries';

const spec: SeriesSpec = { seed: 'pixel-checks', rows: 24, columns: 32, slices: 4, pixelSpacing: [0.7, 0.8], thickness: 2.5, encoding: ENCODINGS[1] };
const uids = seriesUids(spec);
const PYDICOM = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const J2K_FILE = path.join(PROJECT_ROOT, 'test/fixtures/realdata/pydicom-data/693_J2KR.dcm');

function slice(damage: Damage = { kind: 'trailing', bytes: [] }, k = 0): Buffer {
  return damagedSlice(spec, k, { encoding: 1, explicit: true, target: k, rotation: 0, damage });
}

function parsedSlice(damage?: Damage): ParsedInstance {
  return parseInstance(slice(damage));
}

/** The message names the instance, its series and every text given. */
function expectNamed(message: string, ...texts: string[]): void {
  for (const text of [uids.instance(0), uids.series, ...texts]) expect(message).to.contain(text);
}

/** An instance whose pixel data is encapsulated (PS3.5 A.4): Basic Offset Table, then the fragments. */
function encapsulatedSlice(transferSyntaxUID: string, fragments: Buffer[], itemTag = 0xe000): Buffer {
  const dataSet = sliceElements(spec, 0).filter((element) => element.tag !== TAG.pixelData);
  const head = writePart10(metaElements(spec, 0, transferSyntaxUID), dataSet, true).bytes;
  const item = (value: Buffer, tag = 0xe000): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt16LE(0xfffe, 0);
    header.writeUInt16LE(tag, 2);
    header.writeUInt32LE(value.length, 4);
    return Buffer.concat([header, value]);
  };
  const pixelHeader = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  return Buffer.concat([head, pixelHeader, item(Buffer.alloc(0)), ...fragments.map((fragment) => item(fragment, itemTag)), item(Buffer.alloc(0), 0xe0dd)]);
}

describe('study/pixelChecks: what an instance must say before its pixels are used', () => {
  it('pixel data longer than Rows x Columns x BitsAllocated: pixel-data-length-mismatch, with the tags and both lengths', () => {
    const err = refusalSync(() => nativePixels(parsedSlice({ kind: 'pixelBytes', delta: 2 })));
    expect(err.code).to.equal('pixel-data-length-mismatch');
    expectNamed(err.message, 'PixelData (7FE0,0010) holds 1538 bytes', 'Rows (0028,0010) 24', 'Columns (0028,0011) 32', 'BitsAllocated (0028,0100) 16', '= 1536 bytes');
    expect(err.details).to.include({ expectedBytes: 1536, foundBytes: 1538 });
  });

  it('shorter pixel data stays truncated-pixel-data, with the same numbers', () => {
    const err = refusalSync(() => nativePixels(parsedSlice({ kind: 'pixelBytes', delta: -2 })));
    expect(err.code).to.equal('truncated-pixel-data');
    expectNamed(err.message, '1534 bytes', '= 1536 bytes');
  });

  it('one padding byte after an odd number of 8-bit values is legal (PS3.5 7.1.1), a second one is not', () => {
    const odd = (bytes: number): ParsedInstance => ({
      ...parsedSlice(),
      rows: 3,
      columns: 3,
      bitsAllocated: 8,
      bitsStored: 8,
      highBit: 7,
      pixelRepresentation: 0,
      pixelData: { encapsulated: false, bytes: Buffer.alloc(bytes) },
    });
    expect(nativePixels(odd(9))).to.have.length(9);
    expect(nativePixels(odd(10))).to.have.length(9);
    expect(refusalSync(() => nativePixels(odd(11))).code).to.equal('pixel-data-length-mismatch');
    expect(refusalSync(() => nativePixels(odd(8))).code).to.equal('truncated-pixel-data');
  });

  it('pydicom MR_small_padded.dcm (pixel data 128 bytes longer than 64 x 64 x 16 bits) is refused', async () => {
    const err = await refusal(decodePixels(parseInstance(readFileSync(path.join(PYDICOM, 'MR_small_padded.dcm')))));
    expect(err.code).to.equal('pixel-data-length-mismatch');
    expect(err.message).to.contain('8320 bytes').and.contain('8192 bytes');
  });

  it('BitsStored above BitsAllocated: bits-stored-exceed-allocated; HighBit not BitsStored - 1: high-bit-mismatch', () => {
    const bits = refusalSync(() => nativePixels(parsedSlice({ kind: 'bits', bitsStored: 20 })));
    expect(bits.code).to.equal('bits-stored-exceed-allocated');
    expectNamed(bits.message, 'BitsStored (0028,0101) 20', 'BitsAllocated (0028,0100) 16');
    const highBit = refusalSync(() => nativePixels(parsedSlice({ kind: 'set', tag: TAG.highBit, vr: 'US', value: 11 })));
    expect(highBit.code).to.equal('high-bit-mismatch');
    expectNamed(highBit.message, 'HighBit (0028,0102) 11', 'BitsStored (0028,0101) 16', '15 expected');
  });

  it('NumberOfFrames that is not a whole number of 1 or more is invalid-dicom, naming the tag', () => {
    for (const value of ['0', '-2', 'abc']) {
      const err = refusalSync(() => nativePixels(parsedSlice({ kind: 'set', tag: TAG.numberOfFrames, vr: 'IS', value })));
      expect(err.code, value).to.equal('invalid-dicom');
      expectNamed(err.message, 'NumberOfFrames (0028,0008)');
    }
  });

  // Each row: RescaleSlope and RescaleIntercept of the int16 -1024 slice, and why they cannot be CT numbers.
  const rescaleRows: { slope: number; intercept: number; why: string }[] = [
    { slope: 0, intercept: -1024, why: 'slope 0' },
    { slope: -1, intercept: -1024, why: 'a negative slope' },
    { slope: Number.NaN, intercept: -1024, why: 'a slope that is not a number' },
    { slope: 10.5, intercept: -1024, why: 'steps of more than 10 HU' },
    { slope: 1, intercept: Number.POSITIVE_INFINITY, why: 'an infinite intercept' },
    { slope: 1, intercept: 1e9, why: 'every stored value far above the CT range' },
    { slope: 1e-6, intercept: 5000, why: 'the stored range squeezed into 5000 +- 0.03 HU' },
  ];
  for (const row of rescaleRows) {
    it(`implausible-rescale: ${row.why} (slope ${row.slope}, intercept ${row.intercept})`, () => {
      const err = refusalSync(() => checkRescale({ ...parsedSlice(), rescaleSlope: row.slope, rescaleIntercept: row.intercept }));
      expect(err.code).to.equal('implausible-rescale');
      expectNamed(err.message, 'RescaleSlope (0028,1053)', 'RescaleIntercept (0028,1052)', String(row.slope));
    });
  }

  it('the limits: slope 10 and 0.5 pass; 12 bits unsigned reaching exactly -1000 HU pass for a CT volume, -990 HU does not', () => {
    const p = parsedSlice();
    for (const slope of [10, 0.5]) expect(() => checkCtRescale({ ...p, rescaleSlope: slope })).not.to.throw();
    const twelveBits = { ...p, bitsStored: 12, highBit: 11, pixelRepresentation: 0 };
    expect(() => checkCtRescale({ ...twelveBits, rescaleIntercept: -1000 })).not.to.throw();
    const err = refusalSync(() => checkCtRescale({ ...twelveBits, rescaleIntercept: -990 }));
    expect(err.code).to.equal('implausible-rescale');
    expectNamed(err.message, 'from -990 to 3105 HU', 'air');
  });

  it('a rescale that cannot reach air is converted by storedToHu for any image, but refused for a CT volume', () => {
    // 16 bits unsigned, no rescale: 0 to 65535 "HU" (an MR image, or CT pixels read without their sign).
    const unsigned = { ...parsedSlice(), pixelRepresentation: 0, rescaleIntercept: 0 };
    expect(() => checkRescale(unsigned)).not.to.throw();
    expect(refusalSync(() => checkCtRescale(unsigned)).code).to.equal('implausible-rescale');
  });

  it('RescaleIntercept missing: refused for a CT image (type 1, PS3.3 C.8.2.1), allowed elsewhere', () => {
    const ct = parsedSlice({ kind: 'drop', tag: TAG.rescaleIntercept });
    expect(ct.rescaleAbsent).to.deep.equal(['RescaleIntercept']);
    const err = refusalSync(() => checkCtRescale(ct));
    expect(err.code).to.equal('implausible-rescale');
    expectNamed(err.message, 'RescaleIntercept (0028,1052) missing');
    expect(() => checkCtRescale({ ...ct, modality: 'MR', sopClassUID: '1.2.840.10008.5.1.4.1.1.4', rescaleIntercept: -1024 })).not.to.throw();
  });
});

describe('study/pixelChecks: encapsulated pixel data and the transfer syntax', () => {
  const j2k = parseInstance(readFileSync(J2K_FILE));
  const codestream = j2k.pixelData?.encapsulated ? j2k.pixelData.fragments[0] : Buffer.alloc(0);

  it('encapsulated pixel data under explicit VR little endian, and native pixel data under JPEG 2000: invalid-dicom, naming PixelData', () => {
    const encapsulated = refusalSync(() => parseInstance(encapsulatedSlice(TRANSFER_SYNTAX.explicitVrLittleEndian, [codestream])));
    expect(encapsulated.code).to.equal('invalid-dicom');
    expect(encapsulated.message).to.contain('PixelData (7FE0,0010) is encapsulated').and.contain('1.2.840.10008.1.2.1');
    const native = refusalSync(() => parseInstance(damagedSlice(spec, 0, { encoding: 1, explicit: true, target: 0, rotation: 0, damage: { kind: 'transferSyntax', uid: TRANSFER_SYNTAX.jpeg2000Lossless } })));
    expect(native.code).to.equal('invalid-dicom');
    expect(native.message).to.contain('defined length of 1536 bytes').and.contain('JPEG 2000');
  });

  it('a fragment item with another tag is invalid-dicom', () => {
    expect(refusalSync(() => parseInstance(encapsulatedSlice(TRANSFER_SYNTAX.jpeg2000Lossless, [codestream], 0xe00d))).code).to.equal('invalid-dicom');
  });

  it('a JPEG 2000 codestream cut short, or garbage, is corrupt-pixel-data; so is one whose size contradicts Rows and Columns', async () => {
    for (const fragment of [codestream.subarray(0, codestream.length >> 1), Buffer.alloc(500, 0x5a)]) {
      expect((await refusal(decodePixels({ ...j2k, pixelData: { encapsulated: true, fragments: [fragment] } }))).code).to.equal('corrupt-pixel-data');
    }
    const err = await refusal(decodePixels({ ...j2k, rows: 256 }));
    expect(err.code).to.equal('corrupt-pixel-data');
    expect(err.message).to.contain('512x512x1').and.contain('Rows 256');
  });
});

describe('study: volume plan and assembly name the damage', () => {
  const descriptors = (): SliceDescriptor[] => Array.from({ length: spec.slices }, (_, k) => sliceDescriptorFromParsed(parseInstance(slice(undefined, k), { headerOnly: true })));

  it('an image size no CT has is refused from the metadata, before any memory is taken: implausible-image-size', () => {
    const huge = descriptors().map((d) => ({ ...d, rows: 65535, columns: 65535 }));
    const result = planVolume(huge);
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.problems.map((problem) => problem.code)).to.deep.equal(['implausible-image-size']);
    const err = refusalSync(() => planVolumeOrThrow(huge));
    expect(err.message).to.contain(`series ${uids.series}`).and.contain('Rows (0028,0010) x Columns (0028,0011) 65535 x 65535');
    // 512 x 512 x 4097 slices: more than 2^30 voxels.
    const first = descriptors()[0];
    const tall = Array.from({ length: 4097 }, (_, k) => ({ ...first, sopInstanceUID: `1.2.3.${k}`, rows: 512, columns: 512, imagePositionPatient: [0, 0, k] as [number, number, number] }));
    expect(refusalSync(() => planVolumeOrThrow(tall)).code).to.equal('implausible-image-size');
  });

  it('slices that disagree in size: mixed-image-size names the series, the tags, each size with its count and an instance', () => {
    const slices = descriptors();
    slices[2] = { ...slices[2], rows: 32, columns: 24 };
    const err = refusalSync(() => planVolumeOrThrow(slices));
    expect(err.code).to.equal('mixed-image-size');
    expect(err.message).to.contain(`series ${uids.series}`).and.contain('Rows (0028,0010) x Columns (0028,0011): 24 x 32 in 3 slices, 32 x 24 in 1 slice');
    expect(err.message).to.contain(`instance ${uids.instance(2)}`);
  });

  it('a streamed instance of another series is refused (mixed-series), and one that does not parse is named by its part and series', async () => {
    const plan = planVolumeOrThrow(descriptors());
    const identity = { studyInstanceUID: uids.study, seriesInstanceUID: uids.series };
    const stranger = slice({ kind: 'set', tag: TAG.seriesInstanceUID, vr: 'UI', value: '1.2.3.4' });
    const mixed = await refusal(new VolumeAssembly(plan, identity).addInstance(stranger));
    expect(mixed.code).to.equal('mixed-series');
    expect(mixed.message).to.contain('1.2.3.4').and.contain(uids.series);
    const cut = await refusal(new VolumeAssembly(plan, identity).addInstance(slice().subarray(0, 300)));
    expect(cut.code).to.equal('truncated-instance');
    expect(cut.message).to.match(new RegExp(`^part 1 of series ${uids.series.replace(/\./g, '\\.')}: `));
  });
});
