import { expect } from 'chai';
import { dicomLabFromRgb, packBinaryFrames, unpackBinaryFrames } from '../../../src/results/seg/segmentPixels';

describe('results/seg/segmentPixels: BINARY packing and CIELab colours', () => {
  it('packs the first pixel into the least significant bit (PS3.5 8.1.1)', () => {
    const frame = new Uint8Array(16);
    frame[0] = 1;
    frame[9] = 1;
    expect([...packBinaryFrames([frame], 16)]).to.deep.equal([0b00000001, 0b00000010]);
  });

  it('packs frames one after the other without padding between them, and pads the whole to an even length', () => {
    // 3 x 3 frames: 9 bits each, so frame 2 starts at bit 1 of byte 1.
    const a = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    const b = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0]);
    const packed = packBinaryFrames([a, b], 9);
    expect(packed.length).to.equal(4); // 18 bits -> 3 bytes -> padded to 4
    expect([...packed]).to.deep.equal([0b00000001, 0b00000111, 0, 0]);
    expect(unpackBinaryFrames(packed, 2, 9).map((f) => [...f])).to.deep.equal([[...a], [...b]]);
  });

  it('round-trips random frames', () => {
    let state = 7;
    const random = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 > 0.7 ? 1 : 0);
    const frames = Array.from({ length: 5 }, () => Uint8Array.from({ length: 13 * 11 }, random));
    expect(unpackBinaryFrames(packBinaryFrames(frames, 143), 5, 143).map((f) => [...f])).to.deep.equal(frames.map((f) => [...f]));
  });

  it('refuses a frame of the wrong size', () => {
    expect(() => packBinaryFrames([new Uint8Array(8)], 9)).to.throw(/8 pixels, expected 9/);
  });

  // Reference values: CIE L*a*b* (D50) of sRGB white, black and red, scaled as PS3.3 C.10.7.1.1 says.
  const cases: Array<[string, [number, number, number], [number, number, number]]> = [
    ['white: L* 100, a* = b* = 0', [255, 255, 255], [65535, 32896, 32896]],
    ['black: L* 0', [0, 0, 0], [0, 32896, 32896]],
    ['red: L* 54.29, a* 80.80, b* 69.89', [255, 0, 0], [Math.round(0.5429 * 65535), Math.round((80.8 + 128) * (65535 / 255)), Math.round((69.89 + 128) * (65535 / 255))]],
  ];
  for (const [why, rgb, lab] of cases) {
    it(`writes ${why}`, () => {
      const got = dicomLabFromRgb(rgb);
      got.forEach((v, i) => expect(v, `component ${i}`).to.be.closeTo(lab[i], 40));
    });
  }

  it('refuses a channel outside 0-255', () => {
    expect(() => dicomLabFromRgb([256, 0, 0])).to.throw(/sRGB/);
  });
});
