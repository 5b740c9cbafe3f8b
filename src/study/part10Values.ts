/**
 * Decoding of the element values the Part-10 reader (instanceParser.ts) keeps: text, multi-valued
 * text and decimal/integer strings (PS3.5 6.2), and the re-signing of the 16-bit pixel padding
 * values. Each works on the instance's buffer in place.
 */

/** One text value, without its padding. */
export function text(buf: Buffer, start: number, length: number): string {
  // Trailing NUL or space pads values to even length (PS3.5 6.2); leading spaces are insignificant in DS/IS/CS.
  return buf.toString('latin1', start, start + length).replace(/[\0 ]+$/, '').trim();
}

/** The values of a multi-valued text element (backslash-separated, PS3.5 6.4). */
export function multiText(buf: Buffer, start: number, length: number): string[] {
  const value = text(buf, start, length);
  return value === '' ? [] : value.split('\\').map((part) => part.trim());
}

/** The values of a DS or IS element, as numbers (NaN where a value is not a number). */
export function numbers(buf: Buffer, start: number, length: number): number[] {
  return multiText(buf, start, length).map(Number);
}

/**
 * A padding value read as US, in the sign of PixelRepresentation (PS3.3 C.7.5.1.1.2: it is US or
 * SS as the pixels are).
 */
export function reSign(value: number | undefined, pixelRepresentation: number): number | undefined {
  if (value === undefined) return undefined;
  if (pixelRepresentation === 1 && value > 0x7fff) return value - 0x10000;
  if (pixelRepresentation === 0 && value < 0) return value + 0x10000;
  return value;
}
