/**
 * A minimal, fast reader of one DICOM Part-10 instance (PS3.10 7.1) for the retrieval hot path.
 *
 * It walks the top-level data set once, decodes only the attributes volume assembly needs, skips
 * everything else by its length (sequences included), and returns a view of the pixel data without
 * copying it. dcmjs parses every element into objects and is several times too slow for an
 * 80-slice 512x512 series; this reader touches only element headers until the pixel data.
 *
 * Transfer syntaxes (PS3.5 10 and Annex A):
 *  - implicit VR little endian (1.2.840.10008.1.2) and explicit VR little endian (1.2.840.10008.1.2.1):
 *    native pixel data, read in place;
 *  - JPEG 2000 (1.2.840.10008.1.2.4.90 lossless, .91): encapsulated (PS3.5 A.4), decoded with the
 *    OpenJPEG WASM build (@cornerstonejs/codec-openjpeg). Orthanc 1.10 cannot transcode J2K, so
 *    these arrive as stored;
 *  - anything else (big endian, JPEG, JPEG-LS, RLE, deflate, HTJ2K, video) is refused with
 *    AnalysisRefusedError('unsupported-transfer-syntax'), naming the syntax.
 *
 * Pure apart from the lazily loaded WASM decoder: no I/O.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import type { Vec3 } from './geometry';

export const TRANSFER_SYNTAX = {
  implicitVrLittleEndian: '1.2.840.10008.1.2',
  explicitVrLittleEndian: '1.2.840.10008.1.2.1',
  deflatedExplicitVrLittleEndian: '1.2.840.10008.1.2.1.99',
  explicitVrBigEndian: '1.2.840.10008.1.2.2',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
} as const;

/** Names of the transfer syntaxes we refuse, so the refusal says what arrived (PS3.6 Annex A). */
const TRANSFER_SYNTAX_NAMES: Record<string, string> = {
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.100': 'MPEG2',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 RPCL Lossless',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
};

export function transferSyntaxName(uid: string): string {
  if (uid === TRANSFER_SYNTAX.implicitVrLittleEndian) return 'Implicit VR Little Endian';
  if (uid === TRANSFER_SYNTAX.explicitVrLittleEndian) return 'Explicit VR Little Endian';
  if (uid === TRANSFER_SYNTAX.jpeg2000Lossless) return 'JPEG 2000 Lossless';
  if (uid === TRANSFER_SYNTAX.jpeg2000) return 'JPEG 2000';
  return TRANSFER_SYNTAX_NAMES[uid] ?? 'unknown transfer syntax';
}

export function isSupportedTransferSyntax(uid: string): boolean {
  return (
    uid === TRANSFER_SYNTAX.implicitVrLittleEndian ||
    uid === TRANSFER_SYNTAX.explicitVrLittleEndian ||
    uid === TRANSFER_SYNTAX.jpeg2000Lossless ||
    uid === TRANSFER_SYNTAX.jpeg2000
  );
}

/** SOP classes whose instances carry their geometry in functional groups (PS3.3 C.7.6.16). */

export type PixelDataView =
  | { encapsulated: false; bytes: Buffer }
  /** Fragments of the pixel data after the Basic Offset Table (PS3.5 A.4). */
  | { encapsulated: true; fragments: Buffer[] };

/** What one instance says about itself; geometry fields are undefined when absent. */
export interface ParsedInstance {
  transferSyntaxUID: string;
  sopClassUID?: string;
  sopInstanceUID: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  frameOfReferenceUID?: string;
  modality?: string;
  instanceNumber?: number;
  imageType: string[];
  imagePositionPatient?: Vec3;
  imageOrientationPatient?: number[];
  /** [row spacing, column spacing], mm (PS3.3 C.7.6.2.1.1). */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 0 unsigned, 1 two's complement. */
  pixelRepresentation: number;
  numberOfFrames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** Stored value that marks padding (PS3.3 C.7.5.1.1.2), in the sign of PixelRepresentation. */
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
  /** True when the instance uses the multi-frame functional groups (Enhanced CT and kin). */
  hasFunctionalGroups: boolean;
  pixelData?: PixelDataView;
}

/** Tags as (group << 16 | element). */
const TAG = {
  transferSyntaxUID: 0x00020010,
  imageType: 0x00080008,
  sopClassUID: 0x00080016,
  sopInstanceUID: 0x00080018,
  modality: 0x00080060,
  sliceThickness: 0x00180050,
  studyInstanceUID: 0x0020000d,
  seriesInstanceUID: 0x0020000e,
  instanceNumber: 0x00200013,
  imagePositionPatient: 0x00200032,
  imageOrientationPatient: 0x00200037,
  frameOfReferenceUID: 0x00200052,
  samplesPerPixel: 0x00280002,
  photometricInterpretation: 0x00280004,
  numberOfFrames: 0x00280008,
  rows: 0x00280010,
  columns: 0x00280011,
  pixelSpacing: 0x00280030,
  bitsAllocated: 0x00280100,
  bitsStored: 0x00280101,
  highBit: 0x00280102,
  pixelRepresentation: 0x00280103,
  pixelPaddingValue: 0x00280120,
  pixelPaddingRangeLimit: 0x00280121,
  rescaleIntercept: 0x00281052,
  rescaleSlope: 0x00281053,
  sharedFunctionalGroups: 0x52009229,
  perFrameFunctionalGroups: 0x52009230,
  pixelData: 0x7fe00010,
  item: 0xfffee000,
  itemDelimitation: 0xfffee00d,
  sequenceDelimitation: 0xfffee0dd,
} as const;

/** Explicit VRs with a reserved 2 bytes and a 32-bit length (PS3.5 7.1.2, Table 7.1-1). */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** VRs of the few tags we decode, for implicit VR data sets (PS3.6). */
const IMPLICIT_VR: Record<number, string> = {
  [TAG.imageType]: 'CS',
  [TAG.sopClassUID]: 'UI',
  [TAG.sopInstanceUID]: 'UI',
  [TAG.modality]: 'CS',
  [TAG.sliceThickness]: 'DS',
  [TAG.studyInstanceUID]: 'UI',
  [TAG.seriesInstanceUID]: 'UI',
  [TAG.instanceNumber]: 'IS',
  [TAG.imagePositionPatient]: 'DS',
  [TAG.imageOrientationPatient]: 'DS',
  [TAG.frameOfReferenceUID]: 'UI',
  [TAG.samplesPerPixel]: 'US',
  [TAG.photometricInterpretation]: 'CS',
  [TAG.numberOfFrames]: 'IS',
  [TAG.rows]: 'US',
  [TAG.columns]: 'US',
  [TAG.pixelSpacing]: 'DS',
  [TAG.bitsAllocated]: 'US',
  [TAG.bitsStored]: 'US',
  [TAG.highBit]: 'US',
  [TAG.pixelRepresentation]: 'US',
  // US or SS depending on PixelRepresentation; read as US and re-signed afterwards.
  [TAG.pixelPaddingValue]: 'US',
  [TAG.pixelPaddingRangeLimit]: 'US',
  [TAG.rescaleIntercept]: 'DS',
  [TAG.rescaleSlope]: 'DS',
  [TAG.pixelData]: 'OW',
};

const UNDEFINED_LENGTH = 0xffffffff;

function truncated(what: string, offset: number, needed: number, have: number): AnalysisRefusedError {
  const code = what === 'pixel data' ? 'truncated-pixel-data' : 'truncated-instance';
  return new AnalysisRefusedError(code, `the instance ends inside its ${what}: ${needed} bytes needed at offset ${offset}, ${have} present`, {
    offset,
    needed,
    have,
  });
}

function text(buf: Buffer, start: number, length: number): string {
  // Trailing NUL or space pads values to even length (PS3.5 6.2); leading spaces are insignificant in DS/IS/CS.
  return buf.toString('latin1', start, start + length).replace(/[\0 ]+$/, '').trim();
}

function multiText(buf: Buffer, start: number, length: number): string[] {
  const s = text(buf, start, length);
  return s === '' ? [] : s.split('\\').map((v) => v.trim());
}

function numbers(buf: Buffer, start: number, length: number): number[] {
  return multiText(buf, start, length).map(Number);
}

interface ElementHeader {
  tag: number;
  vr: string;
  length: number;
  /** Offset of the value. */
  valueOffset: number;
}

/** Reads and validates an element header at `offset`; undefined at the clean end of the buffer. */
function readHeader(buf: Buffer, offset: number, explicit: boolean): ElementHeader | undefined {
  if (offset >= buf.length) return undefined;
  if (offset + 8 > buf.length) throw truncated('element header', offset, 8, buf.length - offset);
  const group = buf.readUInt16LE(offset);
  const element = buf.readUInt16LE(offset + 2);
  const tag = ((group << 16) | element) >>> 0;
  // Items and delimiters never carry a VR, even in explicit VR data sets (PS3.5 7.5).
  if (group === 0xfffe) return { tag, vr: '', length: buf.readUInt32LE(offset + 4), valueOffset: offset + 8 };
  if (!explicit) return { tag, vr: IMPLICIT_VR[tag] ?? 'UN', length: buf.readUInt32LE(offset + 4), valueOffset: offset + 8 };
  const vr = buf.toString('latin1', offset + 4, offset + 6);
  if (LONG_VRS.has(vr)) {
    if (offset + 12 > buf.length) throw truncated('element header', offset, 12, buf.length - offset);
    return { tag, vr, length: buf.readUInt32LE(offset + 8), valueOffset: offset + 12 };
  }
  if (!/^[A-Z]{2}$/.test(vr)) {
    throw new AnalysisRefusedError('invalid-dicom', `invalid VR "${vr.replace(/[^\x20-\x7e]/g, '?')}" at offset ${offset}`, { offset });
  }
  return { tag, vr, length: buf.readUInt16LE(offset + 6), valueOffset: offset + 8 };
}

/**
 * Skips a sequence or item content of undefined length (PS3.5 7.5.2): walks nested elements until
 * the matching delimiter and returns the offset after it. An explicit-VR UN of undefined length
 * holds implicit VR content (PS3.5 6.2.2), hence `explicit` per level.
 */
function skipUndefinedLength(buf: Buffer, offset: number, explicit: boolean, depth: number): number {
  if (depth > 32) throw new AnalysisRefusedError('invalid-dicom', 'sequences nested deeper than 32 levels');
  let pos = offset;
  for (;;) {
    const h = readHeader(buf, pos, explicit);
    if (h === undefined) throw truncated('sequence', pos, 8, 0);
    if (h.tag === TAG.sequenceDelimitation || h.tag === TAG.itemDelimitation) return h.valueOffset;
    if (h.length === UNDEFINED_LENGTH) {
      pos = skipUndefinedLength(buf, h.valueOffset, h.vr === 'UN' ? false : explicit, depth + 1);
    } else {
      pos = h.valueOffset + h.length;
      if (pos > buf.length) throw truncated('sequence', h.valueOffset, h.length, buf.length - h.valueOffset);
    }
  }
}

/** Encapsulated pixel data (PS3.5 A.4): a Basic Offset Table item, then one item per fragment. */
function readFragments(buf: Buffer, offset: number): { fragments: Buffer[]; end: number } {
  const fragments: Buffer[] = [];
  let pos = offset;
  let first = true;
  for (;;) {
    if (pos + 8 > buf.length) throw truncated('pixel data', pos, 8, buf.length - pos);
    const tag = ((buf.readUInt16LE(pos) << 16) | buf.readUInt16LE(pos + 2)) >>> 0;
    const length = buf.readUInt32LE(pos + 4);
    pos += 8;
    if (tag === TAG.sequenceDelimitation) return { fragments, end: pos };
    if (tag !== TAG.item || length === UNDEFINED_LENGTH) {
      throw new AnalysisRefusedError('invalid-dicom', `malformed encapsulated pixel data at offset ${pos - 8}`);
    }
    if (pos + length > buf.length) throw truncated('pixel data', pos, length, buf.length - pos);
    if (!first) fragments.push(buf.subarray(pos, pos + length));
    first = false;
    pos += length;
  }
}

/** Locates the data set: after the 128-byte preamble and "DICM" (PS3.10 7.1). */
function dataSetStart(buf: Buffer): number {
  if (buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM') return 132;
  if (buf.length >= 4 && buf.toString('latin1', 0, 4) === 'DICM') return 4;
  throw new AnalysisRefusedError('not-part10', 'not a DICOM Part-10 instance (no "DICM" prefix after the 128-byte preamble)');
}

function reSign(value: number | undefined, pixelRepresentation: number): number | undefined {
  if (value === undefined) return undefined;
  if (pixelRepresentation === 1 && value > 0x7fff) return value - 0x10000;
  if (pixelRepresentation === 0 && value < 0) return value + 0x10000;
  return value;
}

export interface ParseOptions {
  /** Stop after the attributes, leaving `pixelData` undefined (e.g. to plan a volume from files). */
  headerOnly?: boolean;
}

/**
 * Parses one Part-10 instance. Throws AnalysisRefusedError with code `not-part10`, `invalid-dicom`,
 * `unsupported-transfer-syntax`, `truncated-instance` or `truncated-pixel-data`.
 */
export function parseInstance(buf: Buffer, options: ParseOptions = {}): ParsedInstance {
  let pos = dataSetStart(buf);
  let transferSyntaxUID: string | undefined;
  // File Meta Information: always explicit VR little endian (PS3.10 7.1).
  for (;;) {
    if (pos + 8 > buf.length || buf.readUInt16LE(pos) !== 0x0002) break;
    const h = readHeader(buf, pos, true);
    if (h === undefined) break;
    if (h.valueOffset + h.length > buf.length) throw truncated('file meta information', h.valueOffset, h.length, buf.length - h.valueOffset);
    if (h.tag === TAG.transferSyntaxUID) transferSyntaxUID = text(buf, h.valueOffset, h.length);
    pos = h.valueOffset + h.length;
  }
  if (transferSyntaxUID === undefined) {
    throw new AnalysisRefusedError('invalid-dicom', 'the File Meta Information has no TransferSyntaxUID (0002,0010)');
  }
  if (!isSupportedTransferSyntax(transferSyntaxUID)) {
    throw new AnalysisRefusedError(
      'unsupported-transfer-syntax',
      `transfer syntax ${transferSyntaxUID} (${transferSyntaxName(transferSyntaxUID)}) is not supported; ` +
        'the node reads implicit and explicit VR little endian and JPEG 2000',
      { transferSyntaxUID },
    );
  }
  const explicit = transferSyntaxUID !== TRANSFER_SYNTAX.implicitVrLittleEndian;

  const out: Partial<ParsedInstance> & { imageType: string[] } = { transferSyntaxUID, imageType: [], hasFunctionalGroups: false };
  let paddingRaw: number | undefined;
  let paddingLimitRaw: number | undefined;
  for (;;) {
    const h = readHeader(buf, pos, explicit);
    if (h === undefined) break;
    const { tag, vr, length, valueOffset: v } = h;
    if (tag === TAG.pixelData) {
      if (options.headerOnly) break;
      if (length === UNDEFINED_LENGTH) {
        out.pixelData = { encapsulated: true, fragments: readFragments(buf, v).fragments };
      } else {
        if (v + length > buf.length) throw truncated('pixel data', v, length, buf.length - v);
        out.pixelData = { encapsulated: false, bytes: buf.subarray(v, v + length) };
      }
      break;
    }
    if (length === UNDEFINED_LENGTH) {
      if (tag === TAG.sharedFunctionalGroups || tag === TAG.perFrameFunctionalGroups) out.hasFunctionalGroups = true;
      pos = skipUndefinedLength(buf, v, vr === 'UN' ? false : explicit, 1);
      continue;
    }
    if (v + length > buf.length) throw truncated('element value', v, length, buf.length - v);
    pos = v + length;
    if (tag > TAG.pixelData) break;
    switch (tag) {
      case TAG.imageType:
        out.imageType = multiText(buf, v, length).map((s) => s.toUpperCase());
        break;
      case TAG.sopClassUID:
        out.sopClassUID = text(buf, v, length);
        break;
      case TAG.sopInstanceUID:
        out.sopInstanceUID = text(buf, v, length);
        break;
      case TAG.modality:
        out.modality = text(buf, v, length);
        break;
      case TAG.sliceThickness:
        out.sliceThickness = numbers(buf, v, length)[0];
        break;
      case TAG.studyInstanceUID:
        out.studyInstanceUID = text(buf, v, length);
        break;
      case TAG.seriesInstanceUID:
        out.seriesInstanceUID = text(buf, v, length);
        break;
      case TAG.instanceNumber:
        out.instanceNumber = numbers(buf, v, length)[0];
        break;
      case TAG.imagePositionPatient: {
        const p = numbers(buf, v, length);
        if (p.length === 3 && p.every(Number.isFinite)) out.imagePositionPatient = [p[0], p[1], p[2]];
        break;
      }
      case TAG.imageOrientationPatient: {
        const o = numbers(buf, v, length);
        if (o.length === 6 && o.every(Number.isFinite)) out.imageOrientationPatient = o;
        break;
      }
      case TAG.frameOfReferenceUID:
        out.frameOfReferenceUID = text(buf, v, length);
        break;
      case TAG.pixelSpacing: {
        const s = numbers(buf, v, length);
        if (s.length === 2 && s.every((x) => Number.isFinite(x) && x > 0)) out.pixelSpacing = [s[0], s[1]];
        break;
      }
      case TAG.photometricInterpretation:
        out.photometricInterpretation = text(buf, v, length);
        break;
      case TAG.numberOfFrames:
        out.numberOfFrames = numbers(buf, v, length)[0];
        break;
      case TAG.rescaleIntercept:
        out.rescaleIntercept = numbers(buf, v, length)[0];
        break;
      case TAG.rescaleSlope:
        out.rescaleSlope = numbers(buf, v, length)[0];
        break;
      case TAG.sharedFunctionalGroups:
      case TAG.perFrameFunctionalGroups:
        out.hasFunctionalGroups = true;
        break;
      case TAG.samplesPerPixel:
      case TAG.rows:
      case TAG.columns:
      case TAG.bitsAllocated:
      case TAG.bitsStored:
      case TAG.highBit:
      case TAG.pixelRepresentation:
      case TAG.pixelPaddingValue:
      case TAG.pixelPaddingRangeLimit: {
        if (length < 2) break;
        const value = vr === 'SS' ? buf.readInt16LE(v) : buf.readUInt16LE(v);
        if (tag === TAG.samplesPerPixel) out.samplesPerPixel = value;
        else if (tag === TAG.rows) out.rows = value;
        else if (tag === TAG.columns) out.columns = value;
        else if (tag === TAG.bitsAllocated) out.bitsAllocated = value;
        else if (tag === TAG.bitsStored) out.bitsStored = value;
        else if (tag === TAG.highBit) out.highBit = value;
        else if (tag === TAG.pixelRepresentation) out.pixelRepresentation = value;
        else if (tag === TAG.pixelPaddingValue) paddingRaw = value;
        else paddingLimitRaw = value;
        break;
      }
      default:
        break;
    }
  }

  if (out.sopInstanceUID === undefined) throw new AnalysisRefusedError('invalid-dicom', 'the instance has no SOPInstanceUID (0008,0018)');
  const pixelRepresentation = out.pixelRepresentation ?? 0;
  const bitsAllocated = out.bitsAllocated ?? 0;
  const parsed: ParsedInstance = {
    ...out,
    transferSyntaxUID,
    sopInstanceUID: out.sopInstanceUID,
    imageType: out.imageType,
    rows: out.rows ?? 0,
    columns: out.columns ?? 0,
    samplesPerPixel: out.samplesPerPixel ?? 1,
    photometricInterpretation: out.photometricInterpretation ?? '',
    bitsAllocated,
    bitsStored: out.bitsStored ?? bitsAllocated,
    highBit: out.highBit ?? (out.bitsStored ?? bitsAllocated) - 1,
    pixelRepresentation,
    numberOfFrames: out.numberOfFrames !== undefined && Number.isFinite(out.numberOfFrames) ? out.numberOfFrames : 1,
    // Absent rescale means stored values are already the output units (PS3.3 C.11.1.1.2).
    rescaleSlope: out.rescaleSlope !== undefined && Number.isFinite(out.rescaleSlope) ? out.rescaleSlope : 1,
    rescaleIntercept: out.rescaleIntercept !== undefined && Number.isFinite(out.rescaleIntercept) ? out.rescaleIntercept : 0,
    hasFunctionalGroups: out.hasFunctionalGroups ?? false,
  };
  const padding = reSign(paddingRaw, pixelRepresentation);
  if (padding !== undefined) parsed.pixelPaddingValue = padding;
  const paddingLimit = reSign(paddingLimitRaw, pixelRepresentation);
  if (paddingLimit !== undefined) parsed.pixelPaddingRangeLimit = paddingLimit;
  return parsed;
}

/** Whether the instance is multi-frame or uses functional groups: volume assembly refuses these. */
export function isEnhancedMultiframe(p: ParsedInstance): boolean {
  return p.hasFunctionalGroups || p.numberOfFrames > 1 || p.sopClassUID === SOP_CLASS.enhancedCtImageStorage;
}

/** Stored pixel values of one frame, one sample per pixel. */
export type StoredPixels = Int16Array | Uint16Array | Int8Array | Uint8Array;

/** Refuses pixel formats a CT HU volume cannot come from (PS3.3 C.7.6.3, C.8.2.1). */
export function checkPixelFormat(p: ParsedInstance): void {
  if (p.rows <= 0 || p.columns <= 0) {
    throw new AnalysisRefusedError('invalid-dicom', `the instance has no image size (Rows ${p.rows}, Columns ${p.columns})`);
  }
  if (p.samplesPerPixel !== 1 || !/^MONOCHROME[12]$/.test(p.photometricInterpretation)) {
    throw new AnalysisRefusedError(
      'unsupported-pixel-format',
      `not a greyscale image (SamplesPerPixel ${p.samplesPerPixel}, PhotometricInterpretation "${p.photometricInterpretation}")`,
    );
  }
  if (p.bitsAllocated !== 8 && p.bitsAllocated !== 16) {
    throw new AnalysisRefusedError('unsupported-pixel-format', `BitsAllocated ${p.bitsAllocated} is not supported (8 or 16)`);
  }
  if (p.bitsStored < 1 || p.bitsStored > p.bitsAllocated) {
    throw new AnalysisRefusedError('unsupported-pixel-format', `BitsStored ${p.bitsStored} does not fit BitsAllocated ${p.bitsAllocated}`);
  }
}

/**
 * Stored values of the first frame of native (uncompressed) pixel data, as a typed view over the
 * instance's bytes when they are aligned, otherwise an aligned copy.
 */
export function nativePixels(p: ParsedInstance): StoredPixels {
  checkPixelFormat(p);
  if (p.pixelData === undefined) throw new AnalysisRefusedError('no-pixel-data', 'the instance has no pixel data (7FE0,0010)');
  if (p.pixelData.encapsulated) throw new Error('nativePixels called on encapsulated pixel data');
  const count = p.rows * p.columns;
  const bytesPerSample = p.bitsAllocated / 8;
  const bytes = p.pixelData.bytes;
  if (bytes.length < count * bytesPerSample) {
    throw new AnalysisRefusedError(
      'truncated-pixel-data',
      `pixel data holds ${bytes.length} bytes; ${p.rows}x${p.columns} at ${p.bitsAllocated} bits needs ${count * bytesPerSample}`,
      { have: bytes.length, needed: count * bytesPerSample },
    );
  }
  const signed = p.pixelRepresentation === 1;
  if (bytesPerSample === 1) {
    return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : new Uint8Array(bytes.buffer, bytes.byteOffset, count);
  }
  let source = bytes;
  if (bytes.byteOffset % 2 !== 0) {
    source = Buffer.allocUnsafe(count * 2);
    bytes.copy(source, 0, 0, count * 2);
  }
  return signed ? new Int16Array(source.buffer, source.byteOffset, count) : new Uint16Array(source.buffer, source.byteOffset, count);
}

interface J2kDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  /** Frees the embind object's WASM memory. */
  delete(): void;
  getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number; isSigned: boolean };
}
interface OpenJpegModule {
  J2KDecoder: new () => J2kDecoder;
}

let openJpeg: Promise<OpenJpegModule> | undefined;

function loadOpenJpeg(): Promise<OpenJpegModule> {
  if (openJpeg === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package ships a CommonJS factory without types
    const factory = require('@cornerstonejs/codec-openjpeg/decodewasmjs') as (module: object) => Promise<OpenJpegModule>;
    // OpenJPEG prints [INFO] lines through Emscripten's print: keep stdout clean for command output.
    openJpeg = factory({ print: () => undefined, printErr: () => undefined });
  }
  return openJpeg;
}

/** Decodes the first frame of JPEG 2000 pixel data (PS3.5 A.4.4) to stored values. */
async function decodeJpeg2000(p: ParsedInstance, fragments: Buffer[]): Promise<StoredPixels> {
  checkPixelFormat(p);
  if (fragments.length === 0) throw new AnalysisRefusedError('truncated-pixel-data', 'encapsulated pixel data without fragments');
  // A single-frame image may be split over several fragments; they concatenate to one codestream.
  const codestream = fragments.length === 1 ? fragments[0] : Buffer.concat(fragments);
  const module = await loadOpenJpeg();
  const decoder = new module.J2KDecoder();
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    try {
      decoder.decode();
    } catch (err) {
      throw new AnalysisRefusedError('corrupt-pixel-data', `JPEG 2000 decoding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const info = decoder.getFrameInfo();
    if (info.width !== p.columns || info.height !== p.rows || info.componentCount !== 1) {
      throw new AnalysisRefusedError(
        'corrupt-pixel-data',
        `JPEG 2000 codestream is ${info.width}x${info.height}x${info.componentCount}, the header says ${p.columns}x${p.rows}x1`,
      );
    }
    const count = p.rows * p.columns;
    // Copy out of the WASM heap, which the next decode reuses.
    const bytes = Buffer.from(decoder.getDecodedBuffer().slice(0, count * (info.bitsPerSample > 8 ? 2 : 1)));
    // The codestream's own signedness wins over PixelRepresentation (they can disagree, PS3.5 8.2.4).
    if (info.bitsPerSample > 8) {
      return info.isSigned ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Uint16Array(bytes.buffer, bytes.byteOffset, count);
    }
    return info.isSigned ? new Int8Array(bytes.buffer, bytes.byteOffset, count) : new Uint8Array(bytes.buffer, bytes.byteOffset, count);
  } finally {
    decoder.delete();
  }
}

/** Stored values of the first frame, decoding JPEG 2000 when needed. */
export async function decodePixels(p: ParsedInstance): Promise<StoredPixels> {
  if (p.pixelData === undefined) throw new AnalysisRefusedError('no-pixel-data', 'the instance has no pixel data (7FE0,0010)');
  if (!p.pixelData.encapsulated) return nativePixels(p);
  return decodeJpeg2000(p, p.pixelData.fragments);
}

export interface HuOptions {
  /** HU written where the stored value is padding (PS3.3 C.7.5.1.1.2). Default -1024 (air). */
  paddingHu?: number;
}

/**
 * Writes one frame's HU into `out` from `offset`: HU = stored * RescaleSlope + RescaleIntercept
 * (PS3.3 C.11.1.1.2), after masking to BitsStored with the sign of PixelRepresentation; padding
 * values (and the range up to PixelPaddingRangeLimit) become `paddingHu`.
 */
export function storedToHu(p: ParsedInstance, stored: StoredPixels, out: Float32Array, offset: number, options: HuOptions = {}): void {
  const count = p.rows * p.columns;
  if (stored.length < count) throw new AnalysisRefusedError('truncated-pixel-data', `decoded ${stored.length} pixels, expected ${count}`);
  if (offset + count > out.length) throw new RangeError(`slice at ${offset} does not fit a volume of ${out.length} voxels`);
  const paddingHu = options.paddingHu ?? -1024;
  const containerBits = stored instanceof Int16Array || stored instanceof Uint16Array ? 16 : 8;
  const containerSigned = stored instanceof Int16Array || stored instanceof Int8Array;
  const signed = p.pixelRepresentation === 1;
  const slope = p.rescaleSlope;
  const intercept = p.rescaleIntercept;
  let lo = p.pixelPaddingValue;
  let hi = p.pixelPaddingRangeLimit ?? p.pixelPaddingValue;
  if (lo !== undefined && hi !== undefined && hi < lo) [lo, hi] = [hi, lo];
  if (p.bitsStored === containerBits && containerSigned === signed && slope === 1 && intercept === 0 && lo === undefined) {
    // Stored values are HU already: a native typed-array conversion (several times faster than a loop).
    out.set(stored.subarray(0, count), offset);
    return;
  }
  if (containerBits === 16) {
    // 16-bit storage, whatever its encoding: one lookup per voxel in a table that maps every raw
    // 16-bit pattern through generalInto's rules. No branch per voxel, so noise and padding do not
    // cost mispredictions; measured faster than the arithmetic loop on CT data.
    const table = huTable(p, containerSigned, lo, hi, paddingHu);
    const raw = new Uint16Array(stored.buffer, stored.byteOffset, count);
    const dst = out.subarray(offset, offset + count);
    for (let i = 0; i < count; i++) dst[i] = table[raw[i]];
    return;
  }
  generalInto(out.subarray(offset, offset + count), stored, p, lo, hi, paddingHu);
}

const huTables = new Map<string, Float32Array>();

/** The 65536-entry HU table of a 16-bit encoding; a series shares one, so tables are cached. */
function huTable(p: ParsedInstance, containerSigned: boolean, lo: number | undefined, hi: number | undefined, paddingHu: number): Float32Array {
  const key = [containerSigned, p.bitsStored, p.pixelRepresentation, p.rescaleSlope, p.rescaleIntercept, lo, hi, paddingHu].join('|');
  let table = huTables.get(key);
  if (table === undefined) {
    const raw = new Int32Array(65536);
    for (let u = 0; u < 65536; u++) raw[u] = containerSigned ? (u << 16) >> 16 : u;
    table = new Float32Array(65536);
    generalInto(table, raw, p, lo, hi, paddingHu);
    if (huTables.size >= 16) huTables.delete(huTables.keys().next().value!);
    huTables.set(key, table);
  }
  return table;
}

/**
 * Any other encoding: each value masked to BitsStored with the sign of PixelRepresentation (the
 * high bits may hold overlays or garbage, PS3.5 8.1.1), padding values (up to
 * PixelPaddingRangeLimit) to `paddingHu`, otherwise stored * RescaleSlope + RescaleIntercept.
 */
function generalInto(dst: Float32Array, src: StoredPixels | Int32Array, p: ParsedInstance, lo: number | undefined, hi: number | undefined, paddingHu: number): void {
  const signed = p.pixelRepresentation === 1;
  const shift = 32 - p.bitsStored;
  const mask = p.bitsStored >= 32 ? 0xffffffff : (1 << p.bitsStored) - 1;
  const slope = p.rescaleSlope;
  const intercept = p.rescaleIntercept;
  const padLo = lo ?? 1;
  const padHi = hi ?? 0;
  for (let i = 0; i < dst.length; i++) {
    const raw = src[i];
    const v = signed ? (raw << shift) >> shift : raw & mask;
    dst[i] = v >= padLo && v <= padHi ? paddingHu : v * slope + intercept;
  }
}
