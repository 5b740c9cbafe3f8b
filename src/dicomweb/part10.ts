/**
 * Reads the File Meta Information (PS3.10 7.1) of a Part 10 buffer without decoding the dataset:
 * enough to know which instance a buffer holds before sending it. Group 0002 is always explicit
 * VR little endian (PS3.10 7.1), which keeps this small.
 */
export interface Part10Meta {
  /** MediaStorageSOPClassUID (0002,0002). */
  sopClassUID?: string;
  /** MediaStorageSOPInstanceUID (0002,0003). */
  sopInstanceUID?: string;
  /** TransferSyntaxUID (0002,0010). */
  transferSyntaxUID?: string;
}

/** VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** undefined when the buffer is not a Part 10 file (no "DICM" after the 128-byte preamble). */
export function readPart10Meta(buffer: Uint8Array): Part10Meta | undefined {
  const buf = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') return undefined;
  const meta: Part10Meta = {};
  let offset = 132;
  while (offset + 8 <= buf.length) {
    const group = buf.readUInt16LE(offset);
    if (group !== 0x0002) break;
    const element = buf.readUInt16LE(offset + 2);
    const vr = buf.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let valueStart: number;
    if (LONG_VRS.has(vr)) {
      if (offset + 12 > buf.length) break;
      length = buf.readUInt32LE(offset + 8);
      valueStart = offset + 12;
    } else {
      length = buf.readUInt16LE(offset + 6);
      valueStart = offset + 8;
    }
    if (valueStart + length > buf.length) break;
    // UI values are padded with a trailing NUL to even length (PS3.5 6.2).
    const text = (): string => buf.toString('latin1', valueStart, valueStart + length).replace(/[\0 ]+$/, '');
    if (element === 0x0002) meta.sopClassUID = text();
    else if (element === 0x0003) meta.sopInstanceUID = text();
    else if (element === 0x0010) meta.transferSyntaxUID = text();
    offset = valueStart + length;
  }
  return meta;
}
