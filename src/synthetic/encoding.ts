/**
 * How HU become stored pixel values (PS3.3 C.7.6.3 Image Pixel, C.8.2.1 CT Image): real scanners
 * differ, and the node must read them all through RescaleSlope and RescaleIntercept.
 */
export type PixelEncodingName = 'int16' | 'int16-padded' | 'int16-hu' | 'uint12' | 'uint16-slope-0.5';

export interface PixelEncoding {
  name: PixelEncodingName;
  pixelRepresentation: 0 | 1;
  bitsStored: 12 | 16;
  rescaleIntercept: number;
  rescaleSlope: number;
  /** Stored value outside the circular reconstruction field (PixelPaddingValue), if used. */
  paddingValue?: number;
}

export const PIXEL_ENCODINGS: Record<PixelEncodingName, PixelEncoding> = {
  /** Signed 16-bit, intercept -1024: the common default. */
  int16: { name: 'int16', pixelRepresentation: 1, bitsStored: 16, rescaleIntercept: -1024, rescaleSlope: 1 },
  /** Same, with the area outside the reconstruction circle padded at -2000 (stored). */
  'int16-padded': { name: 'int16-padded', pixelRepresentation: 1, bitsStored: 16, rescaleIntercept: -1024, rescaleSlope: 1, paddingValue: -2000 },
  /** Signed 16-bit storing HU directly (intercept 0). */
  'int16-hu': { name: 'int16-hu', pixelRepresentation: 1, bitsStored: 16, rescaleIntercept: 0, rescaleSlope: 1 },
  /** Unsigned, 12 bits stored in 16, intercept -1024. */
  uint12: { name: 'uint12', pixelRepresentation: 0, bitsStored: 12, rescaleIntercept: -1024, rescaleSlope: 1 },
  /** Unsigned 16-bit with half-HU steps (slope 0.5). */
  'uint16-slope-0.5': { name: 'uint16-slope-0.5', pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: -1024, rescaleSlope: 0.5 },
};

export const PIXEL_ENCODING_NAMES = Object.keys(PIXEL_ENCODINGS) as PixelEncodingName[];

/** Stored value range of an encoding. */
export function storedRange(e: PixelEncoding): [number, number] {
  if (e.pixelRepresentation === 1) return [-(2 ** (e.bitsStored - 1)), 2 ** (e.bitsStored - 1) - 1];
  return [0, 2 ** e.bitsStored - 1];
}

/**
 * HU slice -> stored pixels (16-bit words in the platform's byte order, little-endian on every
 * platform Node supports here). `fovMask[i] === 0` marks pixels outside the reconstruction
 * circle, which get the padding value when the encoding has one.
 */
export function encodePixels(hu: Float32Array, e: PixelEncoding, fovMask?: Uint8Array): Uint8Array {
  return addNoiseAndEncode(hu.slice(), new Float32Array(hu.length), 0, e, fovMask);
}

/**
 * Adds noise to an HU slice in place (hu += sd * noise) and returns the stored pixels, in one
 * pass: this loop runs over every pixel of every slice, so it avoids Math.round (slow in V8) and
 * a second sweep over memory.
 */
export function addNoiseAndEncode(hu: Float32Array, noise: Float32Array, sd: number, e: PixelEncoding, fovMask?: Uint8Array): Uint8Array {
  const [lo, hi] = storedRange(e);
  const n = hu.length;
  const inv = 1 / e.rescaleSlope;
  // stored = floor(hu / slope - intercept / slope + 0.5), clamped.
  const b = -e.rescaleIntercept * inv + 0.5;
  const words = e.pixelRepresentation === 1 ? new Int16Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const h = hu[i] + sd * noise[i];
    hu[i] = h;
    const v = Math.floor(h * inv + b);
    words[i] = v < lo ? lo : v > hi ? hi : v;
  }
  if (e.paddingValue !== undefined && fovMask) for (let i = 0; i < n; i++) if (fovMask[i] === 0) words[i] = e.paddingValue;
  return new Uint8Array(words.buffer);
}
