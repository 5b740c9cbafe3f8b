import { expect } from 'chai';
import { storedToHu } from '../../../src/study/huConversion';
import { parseInstance, type ParsedInstance } from '../../../src/study/instanceParser';
import { decodePixels, nativePixels } from '../../../src/study/pixelDecoding';
import { expectedPixel, makeSimpleCtSeries } from '../../harness/simpleCtSeries';
import { ctSlice, IMPLICIT_LE } from './part10Builder';
import { refusalSync as refusal } from '../../harness/refusal';


async function hu(p: ParsedInstance, paddingHu?: number): Promise<Float32Array> {
  const out = new Float32Array(p.rows * p.columns);
  storedToHu(p, await decodePixels(p), out, 0, paddingHu === undefined ? {} : { paddingHu });
  return out;
}

describe('study/instanceParser', () => {
  it('reads the attributes and the pixels of an explicit VR little endian CT slice', async () => {
    const series = makeSimpleCtSeries({ seed: 'parser', rows: 8, columns: 6, slices: 3, sliceThickness: 2, pixelSpacing: [0.8, 0.6] });
    const p = parseInstance(series.instances[2].part10);
    expect(p.transferSyntaxUID).to.equal('1.2.840.10008.1.2.1');
    expect(p.sopInstanceUID).to.equal(series.instances[2].sopInstanceUID);
    expect(p.seriesInstanceUID).to.equal(series.seriesInstanceUID);
    expect(p.modality).to.equal('CT');
    expect([p.rows, p.columns, p.bitsAllocated, p.bitsStored, p.pixelRepresentation]).to.deep.equal([8, 6, 16, 16, 1]);
    expect(p.pixelSpacing).to.deep.equal([0.8, 0.6]);
    expect(p.imageOrientationPatient).to.deep.equal([1, 0, 0, 0, 1, 0]);
    expect(p.imagePositionPatient?.[2]).to.be.closeTo(-4, 1e-9);
    expect(p.imageType).to.deep.equal(['ORIGINAL', 'PRIMARY', 'AXIAL']);
    const values = await hu(p);
    for (const [i, j] of [[0, 0], [5, 7], [3, 2]]) expect(values[j * 6 + i]).to.equal(expectedPixel(i, j, 2));
  });

  it('returns a view of the pixel bytes, not a copy, when they are aligned', () => {
    const buf = ctSlice({ pixels: new Int16Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]) });
    const stored = nativePixels(parseInstance(buf));
    expect(stored.buffer).to.equal(buf.buffer);
    expect(Array.from(stored.slice(0, 3))).to.deep.equal([1, 2, 3]);
  });

  it('copies misaligned pixel data (a part at an odd offset of a multipart chunk) and reads it right', async () => {
    const buf = ctSlice({ pixels: new Int16Array([-5, 6, -7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1000]) });
    const shifted = Buffer.alloc(buf.length + 1);
    buf.copy(shifted, 1);
    const values = await hu(parseInstance(shifted.subarray(1)));
    expect(Array.from(values.slice(0, 4))).to.deep.equal([-5, 6, -7, 8]);
    expect(values[15]).to.equal(1000);
  });

  it('reads implicit VR little endian', async () => {
    const p = parseInstance(ctSlice({ transferSyntaxUID: IMPLICIT_LE, pixels: new Int16Array(16).fill(-321), position: [1, 2, 3] }));
    expect(p.transferSyntaxUID).to.equal(IMPLICIT_LE);
    expect(p.imagePositionPatient).to.deep.equal([1, 2, 3]);
    expect((await hu(p))[7]).to.equal(-321);
  });

  it('skips sequences of undefined length (ContrastBolusAgentSequence) to reach later attributes', () => {
    const p = parseInstance(
      ctSlice({ extra: { ContrastBolusAgentSequence: [{ CodeValue: 'C-B0322', CodingSchemeDesignator: 'SRT', CodeMeaning: 'Iohexol' }], RescaleIntercept: -1024, RescaleSlope: 1 } }),
    );
    expect(p.rescaleIntercept).to.equal(-1024);
  });

  // HU conversion, PS3.3 C.11.1.1.2 and C.7.5.1.1.2; each row: what it checks.
  const huRows: { why: string; slice: Parameters<typeof ctSlice>[0]; expected: number[]; paddingHu?: number }[] = [
    {
      why: 'slope and intercept apply',
      slice: { pixels: new Int16Array([0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), extra: { RescaleSlope: 2, RescaleIntercept: -1024 } },
      expected: [-1024, -1022, -1020, -1018],
    },
    {
      why: 'unsigned storage with intercept -1024 (the common GE/Siemens form)',
      slice: { pixelRepresentation: 0, pixels: new Uint16Array([0, 1024, 1064, 65535, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), extra: { RescaleIntercept: -1024 } },
      expected: [-1024, 0, 40, 64511],
    },
    {
      why: 'signed 12-bit stored in 16: high bits beyond BitsStored are ignored and the sign comes from bit 11',
      slice: { bitsStored: 12, pixels: new Int16Array([0x0fff, 0x7001, 0x0800, 0x07ff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
      expected: [-1, 1, -2048, 2047],
    },
    {
      why: 'unsigned 12-bit: high bits masked off',
      slice: { bitsStored: 12, pixelRepresentation: 0, pixels: new Uint16Array([0xf000, 0xf001, 0x0fff, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) },
      expected: [0, 1, 4095, 5],
    },
    {
      why: 'PixelPaddingValue (signed) becomes air, other values keep their HU',
      slice: { pixels: new Int16Array([-2000, -1999, 40, -2000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), extra: { PixelPaddingValue: -2000, _vrMap: { PixelData: 'OW', PixelPaddingValue: 'SS' } } },
      expected: [-1024, -1999, 40, -1024],
    },
    {
      why: 'unsigned padding is compared to stored values, before the intercept',
      slice: {
        pixelRepresentation: 0,
        pixels: new Uint16Array([0, 1, 1024, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        extra: { PixelPaddingValue: 0, RescaleIntercept: -1024, _vrMap: { PixelData: 'OW', PixelPaddingValue: 'US' } },
      },
      expected: [-1000, -1023, 0, -1000],
      paddingHu: -1000,
    },
    {
      why: 'PixelPaddingRangeLimit pads a range of values',
      slice: {
        pixels: new Int16Array([-3000, -2500, -2001, -1000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        extra: { PixelPaddingValue: -3000, PixelPaddingRangeLimit: -2001, _vrMap: { PixelData: 'OW', PixelPaddingValue: 'SS', PixelPaddingRangeLimit: 'SS' } },
      },
      expected: [-1024, -1024, -1024, -1000],
    },
  ];
  for (const row of huRows) {
    it(`HU: ${row.why}`, async () => {
      const values = await hu(parseInstance(ctSlice(row.slice)), row.paddingHu);
      expect(Array.from(values.slice(0, row.expected.length))).to.deep.equal(row.expected);
    });
  }

  it('refuses an unsupported transfer syntax and names it', () => {
    const buf = ctSlice();
    // Rewrite the meta's TransferSyntaxUID in place with RLE Lossless (same length, padded).
    const at = buf.indexOf(Buffer.from('1.2.840.10008.1.2.1\0', 'latin1'));
    buf.write('1.2.840.10008.1.2.5\0', at, 'latin1');
    const err = refusal(() => parseInstance(buf));
    expect(err.code).to.equal('unsupported-transfer-syntax');
    expect(err.message).to.contain('1.2.840.10008.1.2.5').and.contain('RLE Lossless');
  });

  it('refuses truncated pixel data with truncated-pixel-data', () => {
    const buf = ctSlice({ rows: 16, columns: 16 });
    const err = refusal(() => parseInstance(buf.subarray(0, buf.length - 100)));
    expect(err.code).to.equal('truncated-pixel-data');
  });

  it('refuses pixel data shorter than Rows x Columns with truncated-pixel-data', () => {
    const p = parseInstance(ctSlice({ rows: 4, columns: 4, pixels: new Int16Array(8) }));
    expect(refusal(() => nativePixels(p)).code).to.equal('truncated-pixel-data');
  });

  it('refuses a buffer cut inside its attributes with truncated-instance', () => {
    expect(refusal(() => parseInstance(ctSlice().subarray(0, 300))).code).to.equal('truncated-instance');
  });

  it('refuses a buffer that is not Part 10 with not-part10', () => {
    expect(refusal(() => parseInstance(Buffer.from('hello, not DICOM'))).code).to.equal('not-part10');
  });

  it('headerOnly stops before the pixel data', () => {
    const p = parseInstance(ctSlice(), { headerOnly: true });
    expect(p.pixelData).to.equal(undefined);
    expect(p.rows).to.equal(4);
  });
});
