/**
 * The SEG's pixel-level encodings: BINARY frames packed one bit per pixel (PS3.5 8.1.1,
 * PS3.3 C.8.20.2.1) and the Recommended Display CIELab Value of a segment (PS3.3 C.10.7.1.1).
 */

/**
 * The frames' pixels, one bit each, packed without a gap between frames: pixel n of the whole
 * sequence is bit (n mod 8) of byte floor(n / 8), the first pixel in the least significant bit.
 * Padded with a zero byte to an even length (PS3.5 7.1.1).
 */
export function packBinaryFrames(frames: readonly Uint8Array[], pixelsPerFrame: number): Uint8Array {
  const bits = frames.length * pixelsPerFrame;
  const bytes = Math.ceil(bits / 8);
  const packed = new Uint8Array(bytes + (bytes % 2));
  let n = 0;
  for (const frame of frames) {
    if (frame.length !== pixelsPerFrame) throw new RangeError(`frame: ${frame.length} pixels, expected ${pixelsPerFrame}`);
    for (let p = 0; p < pixelsPerFrame; p++, n++) {
      if (frame[p] !== 0) packed[n >> 3] |= 1 << (n & 7);
    }
  }
  return packed;
}

/** The inverse of packBinaryFrames, for checks: one 0/1 byte per pixel, frame after frame. */
export function unpackBinaryFrames(packed: Uint8Array, frameCount: number, pixelsPerFrame: number): Uint8Array[] {
  return Array.from({ length: frameCount }, (_, f) => {
    const frame = new Uint8Array(pixelsPerFrame);
    for (let p = 0; p < pixelsPerFrame; p++) {
      const n = f * pixelsPerFrame + p;
      frame[p] = (packed[n >> 3] >> (n & 7)) & 1;
    }
    return frame;
  });
}

// sRGB (IEC 61966-2-1) to CIE XYZ relative to D50, the ICC profile connection space that DICOM's
// CIELab values use (PS3.3 C.10.7.1.1), and the D50 white point.
const SRGB_TO_XYZ_D50 = [
  [0.4360747, 0.3850649, 0.1430804],
  [0.2225045, 0.7168786, 0.0606169],
  [0.0139322, 0.0971045, 0.7141733],
];
const WHITE_D50 = [0.96422, 1, 0.82521];

function linear(channel: number): number {
  const c = channel / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function labF(t: number): number {
  return t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29;
}

/**
 * An sRGB colour (0-255 per channel) as a Recommended Display CIELab Value: L* from 0 to 100 scaled
 * to 0-65535, a* and b* from -128 to 127 scaled to 0-65535 (PS3.3 C.10.7.1.1).
 */
export function dicomLabFromRgb(rgb: readonly [number, number, number]): [number, number, number] {
  if (rgb.some((c) => !(c >= 0 && c <= 255))) throw new RangeError(`colour: sRGB channels 0 to 255, got ${rgb.join(', ')}`);
  const lin = rgb.map(linear);
  const [x, y, z] = SRGB_TO_XYZ_D50.map((row) => row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2]);
  const [fx, fy, fz] = [labF(x / WHITE_D50[0]), labF(y / WHITE_D50[1]), labF(z / WHITE_D50[2])];
  const l = 116 * fy - 16;
  const a = 500 * (fx - fy);
  const b = 200 * (fy - fz);
  const scale = (value: number, low: number, high: number): number => Math.min(65535, Math.max(0, Math.round(((value - low) / (high - low)) * 65535)));
  return [scale(l, 0, 100), scale(a, -128, 127), scale(b, -128, 127)];
}
