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
 * Beside it: part10Tables.ts (the tags, VRs and transfer syntaxes it knows), part10Values.ts (the
 * decoding of the values it keeps), pixelDecoding.ts (stored pixel values, JPEG 2000 included) and
 * huConversion.ts (stored values to HU).
 *
 * Pure: no I/O.
 */
import { SOP_CLASS, TAG, TRANSFER_SYNTAX } from '../dicom/dictionary';
import { AnalysisRefusedError } from '../errors';
import type { Vec3 } from './geometry';
import * as part10Tables from './part10Tables';
import { multiText, numbers, reSign, text } from './part10Values';
import { attributeLabel } from './tagLabels';

// The walk compares every element's tag with these tables: bind them once, as module constants.
// (Under tsx, which runs the tests, each use of an imported name is a getter call; with them the
// walk measured twice as slow.)
const { IMPLICIT_VR, isNativeTransferSyntax, isSupportedTransferSyntax, LONG_VRS, TAG_NUMBER, transferSyntaxName, UNDEFINED_LENGTH } = part10Tables;

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
  /** As read (NaN when the text is not a number: pixelChecks.ts refuses it); 1 when absent. */
  numberOfFrames: number;
  /** As read (NaN or Infinity when the text is not a finite number: pixelChecks.ts refuses it); 1 when absent. */
  rescaleSlope: number;
  /** As read, like rescaleSlope; 0 when absent. */
  rescaleIntercept: number;
  /** The rescale attributes the instance lacks, whose defaults stand in (a CT image must have both). */
  rescaleAbsent?: ('RescaleSlope' | 'RescaleIntercept')[];
  /** Stored value that marks padding (PS3.3 C.7.5.1.1.2), in the sign of PixelRepresentation. */
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
  /** True when the instance uses the multi-frame functional groups (Enhanced CT and kin). */
  hasFunctionalGroups: boolean;
  pixelData?: PixelDataView;
}

function truncated(what: string, offset: number, needed: number, have: number): AnalysisRefusedError {
  const code = what === 'pixel data' ? 'truncated-pixel-data' : 'truncated-instance';
  return new AnalysisRefusedError(code, `the instance ends inside its ${what}: ${needed} bytes needed at offset ${offset}, ${have} present`, {
    offset,
    needed,
    have,
  });
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
    const header = readHeader(buf, pos, explicit);
    if (header === undefined) throw truncated('sequence', pos, 8, 0);
    if (header.tag === TAG_NUMBER.sequenceDelimitation || header.tag === TAG_NUMBER.itemDelimitation) return header.valueOffset;
    if (header.length === UNDEFINED_LENGTH) {
      pos = skipUndefinedLength(buf, header.valueOffset, header.vr === 'UN' ? false : explicit, depth + 1);
    } else {
      pos = header.valueOffset + header.length;
      if (pos > buf.length) throw truncated('sequence', header.valueOffset, header.length, buf.length - header.valueOffset);
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
    if (tag === TAG_NUMBER.sequenceDelimitation) return { fragments, end: pos };
    if (tag !== TAG_NUMBER.item || length === UNDEFINED_LENGTH) {
      throw new AnalysisRefusedError('invalid-dicom', `malformed encapsulated pixel data at offset ${pos - 8}`);
    }
    if (pos + length > buf.length) throw truncated('pixel data', pos, length, buf.length - pos);
    if (!first) fragments.push(buf.subarray(pos, pos + length));
    first = false;
    pos += length;
  }
}

/**
 * The pixel data element's value: a view of native bytes, or the fragments of encapsulated ones.
 * Which of the two it is must agree with the transfer syntax (PS3.5 A.4: encapsulated pixel data
 * has undefined length, native pixel data a defined one); otherwise the bytes would be decoded as
 * what they are not.
 */
function readPixelData(buf: Buffer, header: ElementHeader, transferSyntaxUID: string): PixelDataView {
  const { length, valueOffset } = header;
  const native = isNativeTransferSyntax(transferSyntaxUID);
  const pixelData = attributeLabel('PixelData', TAG.pixelData);
  const syntax = `transfer syntax ${transferSyntaxUID} (${transferSyntaxName(transferSyntaxUID)})`;
  if (length === UNDEFINED_LENGTH) {
    if (native) throw new AnalysisRefusedError('invalid-dicom', `${pixelData} is encapsulated (undefined length) under ${syntax}, which is native (PS3.5 A.4)`);
    return { encapsulated: true, fragments: readFragments(buf, valueOffset).fragments };
  }
  if (!native) {
    throw new AnalysisRefusedError('invalid-dicom', `${pixelData} has a defined length of ${length} bytes under ${syntax}, which encapsulates it (PS3.5 A.4)`);
  }
  if (valueOffset + length > buf.length) throw truncated('pixel data', valueOffset, length, buf.length - valueOffset);
  return { encapsulated: false, bytes: buf.subarray(valueOffset, valueOffset + length) };
}

/** Locates the data set: after the 128-byte preamble and "DICM" (PS3.10 7.1). */
function dataSetStart(buf: Buffer): number {
  if (buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM') return 132;
  if (buf.length >= 4 && buf.toString('latin1', 0, 4) === 'DICM') return 4;
  throw new AnalysisRefusedError('not-part10', 'not a DICOM Part-10 instance (no "DICM" prefix after the 128-byte preamble)');
}

/**
 * Reads the File Meta Information from `offset` (always explicit VR little endian, PS3.10 7.1):
 * the transfer syntax of the data set, refused unless we read it, and where the data set begins.
 */
function readFileMeta(buf: Buffer, offset: number): { transferSyntaxUID: string; dataSetOffset: number } {
  let pos = offset;
  let transferSyntaxUID: string | undefined;
  for (;;) {
    if (pos + 8 > buf.length || buf.readUInt16LE(pos) !== 0x0002) break;
    const header = readHeader(buf, pos, true);
    if (header === undefined) break;
    const { length, valueOffset } = header;
    if (valueOffset + length > buf.length) throw truncated('file meta information', valueOffset, length, buf.length - valueOffset);
    if (header.tag === TAG_NUMBER.transferSyntaxUID) transferSyntaxUID = text(buf, valueOffset, length);
    pos = valueOffset + length;
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
  return { transferSyntaxUID, dataSetOffset: pos };
}

/** The attributes as the walk finds them, before the defaults of absent ones. */
type AttributesRead = Partial<ParsedInstance> & { transferSyntaxUID: string; imageType: string[]; hasFunctionalGroups: boolean };

/** PixelPaddingValue and PixelPaddingRangeLimit as read (US), re-signed once PixelRepresentation is known. */
interface PaddingRead {
  value?: number;
  rangeLimit?: number;
}

/** Decodes one element of the top-level data set into `attributes` when it is one we keep. */
function readAttribute(buf: Buffer, header: ElementHeader, attributes: AttributesRead, padding: PaddingRead): void {
  const { tag, vr, length, valueOffset } = header;
  switch (tag) {
    case TAG_NUMBER.imageType:
      attributes.imageType = multiText(buf, valueOffset, length).map((value) => value.toUpperCase());
      break;
    case TAG_NUMBER.sopClassUID:
      attributes.sopClassUID = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.sopInstanceUID:
      attributes.sopInstanceUID = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.modality:
      attributes.modality = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.sliceThickness:
      attributes.sliceThickness = numbers(buf, valueOffset, length)[0];
      break;
    case TAG_NUMBER.studyInstanceUID:
      attributes.studyInstanceUID = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.seriesInstanceUID:
      attributes.seriesInstanceUID = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.instanceNumber:
      attributes.instanceNumber = numbers(buf, valueOffset, length)[0];
      break;
    case TAG_NUMBER.imagePositionPatient: {
      const position = numbers(buf, valueOffset, length);
      if (position.length === 3 && position.every(Number.isFinite)) attributes.imagePositionPatient = [position[0], position[1], position[2]];
      break;
    }
    case TAG_NUMBER.imageOrientationPatient: {
      const orientation = numbers(buf, valueOffset, length);
      if (orientation.length === 6 && orientation.every(Number.isFinite)) attributes.imageOrientationPatient = orientation;
      break;
    }
    case TAG_NUMBER.frameOfReferenceUID:
      attributes.frameOfReferenceUID = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.pixelSpacing: {
      const spacing = numbers(buf, valueOffset, length);
      if (spacing.length === 2 && spacing.every((x) => Number.isFinite(x) && x > 0)) attributes.pixelSpacing = [spacing[0], spacing[1]];
      break;
    }
    case TAG_NUMBER.photometricInterpretation:
      attributes.photometricInterpretation = text(buf, valueOffset, length);
      break;
    case TAG_NUMBER.numberOfFrames:
      attributes.numberOfFrames = numbers(buf, valueOffset, length)[0];
      break;
    case TAG_NUMBER.rescaleIntercept:
      attributes.rescaleIntercept = numbers(buf, valueOffset, length)[0];
      break;
    case TAG_NUMBER.rescaleSlope:
      attributes.rescaleSlope = numbers(buf, valueOffset, length)[0];
      break;
    case TAG_NUMBER.sharedFunctionalGroups:
    case TAG_NUMBER.perFrameFunctionalGroups:
      attributes.hasFunctionalGroups = true;
      break;
    case TAG_NUMBER.samplesPerPixel:
    case TAG_NUMBER.rows:
    case TAG_NUMBER.columns:
    case TAG_NUMBER.bitsAllocated:
    case TAG_NUMBER.bitsStored:
    case TAG_NUMBER.highBit:
    case TAG_NUMBER.pixelRepresentation:
    case TAG_NUMBER.pixelPaddingValue:
    case TAG_NUMBER.pixelPaddingRangeLimit: {
      if (length < 2) break;
      const value = vr === 'SS' ? buf.readInt16LE(valueOffset) : buf.readUInt16LE(valueOffset);
      if (tag === TAG_NUMBER.samplesPerPixel) attributes.samplesPerPixel = value;
      else if (tag === TAG_NUMBER.rows) attributes.rows = value;
      else if (tag === TAG_NUMBER.columns) attributes.columns = value;
      else if (tag === TAG_NUMBER.bitsAllocated) attributes.bitsAllocated = value;
      else if (tag === TAG_NUMBER.bitsStored) attributes.bitsStored = value;
      else if (tag === TAG_NUMBER.highBit) attributes.highBit = value;
      else if (tag === TAG_NUMBER.pixelRepresentation) attributes.pixelRepresentation = value;
      else if (tag === TAG_NUMBER.pixelPaddingValue) padding.value = value;
      else padding.rangeLimit = value;
      break;
    }
    default:
      break;
  }
}

/** The instance from the attributes read: defaults for absent ones, padding in the pixels' sign. */
function completeInstance(attributes: AttributesRead, padding: PaddingRead): ParsedInstance {
  if (attributes.sopInstanceUID === undefined) throw new AnalysisRefusedError('invalid-dicom', 'the instance has no SOPInstanceUID (0008,0018)');
  const pixelRepresentation = attributes.pixelRepresentation ?? 0;
  const bitsAllocated = attributes.bitsAllocated ?? 0;
  const parsed: ParsedInstance = {
    ...attributes,
    transferSyntaxUID: attributes.transferSyntaxUID,
    sopInstanceUID: attributes.sopInstanceUID,
    imageType: attributes.imageType,
    rows: attributes.rows ?? 0,
    columns: attributes.columns ?? 0,
    samplesPerPixel: attributes.samplesPerPixel ?? 1,
    photometricInterpretation: attributes.photometricInterpretation ?? '',
    bitsAllocated,
    bitsStored: attributes.bitsStored ?? bitsAllocated,
    highBit: attributes.highBit ?? (attributes.bitsStored ?? bitsAllocated) - 1,
    pixelRepresentation,
    // Values that are present but not numbers stay NaN: the checks before any pixel is used
    // (pixelChecks.ts) refuse them, rather than a default hiding the damage.
    numberOfFrames: attributes.numberOfFrames ?? 1,
    // Absent rescale means stored values are already the output units (PS3.3 C.11.1.1.2).
    rescaleSlope: attributes.rescaleSlope ?? 1,
    rescaleIntercept: attributes.rescaleIntercept ?? 0,
    hasFunctionalGroups: attributes.hasFunctionalGroups,
  };
  const rescaleAbsent = (['RescaleSlope', 'RescaleIntercept'] as const).filter((keyword) =>
    keyword === 'RescaleSlope' ? attributes.rescaleSlope === undefined : attributes.rescaleIntercept === undefined,
  );
  if (rescaleAbsent.length > 0) parsed.rescaleAbsent = rescaleAbsent;
  const paddingValue = reSign(padding.value, pixelRepresentation);
  if (paddingValue !== undefined) parsed.pixelPaddingValue = paddingValue;
  const paddingLimit = reSign(padding.rangeLimit, pixelRepresentation);
  if (paddingLimit !== undefined) parsed.pixelPaddingRangeLimit = paddingLimit;
  return parsed;
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
  const { transferSyntaxUID, dataSetOffset } = readFileMeta(buf, dataSetStart(buf));
  const explicit = transferSyntaxUID !== TRANSFER_SYNTAX.implicitVrLittleEndian;
  const attributes: AttributesRead = { transferSyntaxUID, imageType: [], hasFunctionalGroups: false };
  const padding: PaddingRead = {};
  let pos = dataSetOffset;
  for (;;) {
    const header = readHeader(buf, pos, explicit);
    if (header === undefined) break;
    const { tag, length, valueOffset } = header;
    if (tag === TAG_NUMBER.pixelData) {
      if (!options.headerOnly) attributes.pixelData = readPixelData(buf, header, transferSyntaxUID);
      break;
    }
    if (length === UNDEFINED_LENGTH) {
      if (tag === TAG_NUMBER.sharedFunctionalGroups || tag === TAG_NUMBER.perFrameFunctionalGroups) attributes.hasFunctionalGroups = true;
      pos = skipUndefinedLength(buf, valueOffset, header.vr === 'UN' ? false : explicit, 1);
      continue;
    }
    if (valueOffset + length > buf.length) throw truncated('element value', valueOffset, length, buf.length - valueOffset);
    pos = valueOffset + length;
    if (tag > TAG_NUMBER.pixelData) break;
    readAttribute(buf, header, attributes, padding);
  }
  return completeInstance(attributes, padding);
}

/** Whether the instance is multi-frame or uses functional groups: volume assembly refuses these. */
export function isEnhancedMultiframe(instance: ParsedInstance): boolean {
  return instance.hasFunctionalGroups || instance.numberOfFrames > 1 || instance.sopClassUID === SOP_CLASS.enhancedCtImageStorage;
}
