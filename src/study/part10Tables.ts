/**
 * The tables of the Part-10 reader (instanceParser.ts): the tags it decodes as the numbers it
 * compares, the VRs an implicit VR data set leaves out, and the transfer syntaxes it reads or
 * names when refusing them. The tags and UIDs themselves come from the dictionary
 * (src/dicom/dictionary.ts).
 */
import { TAG, TRANSFER_SYNTAX } from '../dicom/dictionary';

/** A dictionary tag as the reader compares it: (group << 16 | element). */
function tagNumber(hex: string): number {
  return parseInt(hex, 16);
}

/** Tags as (group << 16 | element). */
export const TAG_NUMBER = {
  transferSyntaxUID: tagNumber(TAG.transferSyntaxUID),
  imageType: tagNumber(TAG.imageType),
  sopClassUID: tagNumber(TAG.sopClassUID),
  sopInstanceUID: tagNumber(TAG.sopInstanceUID),
  modality: tagNumber(TAG.modality),
  sliceThickness: tagNumber(TAG.sliceThickness),
  studyInstanceUID: tagNumber(TAG.studyInstanceUID),
  seriesInstanceUID: tagNumber(TAG.seriesInstanceUID),
  instanceNumber: tagNumber(TAG.instanceNumber),
  imagePositionPatient: tagNumber(TAG.imagePositionPatient),
  imageOrientationPatient: tagNumber(TAG.imageOrientationPatient),
  frameOfReferenceUID: tagNumber(TAG.frameOfReferenceUID),
  samplesPerPixel: tagNumber(TAG.samplesPerPixel),
  photometricInterpretation: tagNumber(TAG.photometricInterpretation),
  numberOfFrames: tagNumber(TAG.numberOfFrames),
  rows: tagNumber(TAG.rows),
  columns: tagNumber(TAG.columns),
  pixelSpacing: tagNumber(TAG.pixelSpacing),
  bitsAllocated: tagNumber(TAG.bitsAllocated),
  bitsStored: tagNumber(TAG.bitsStored),
  highBit: tagNumber(TAG.highBit),
  pixelRepresentation: tagNumber(TAG.pixelRepresentation),
  pixelPaddingValue: tagNumber(TAG.pixelPaddingValue),
  pixelPaddingRangeLimit: tagNumber(TAG.pixelPaddingRangeLimit),
  rescaleIntercept: tagNumber(TAG.rescaleIntercept),
  rescaleSlope: tagNumber(TAG.rescaleSlope),
  sharedFunctionalGroups: tagNumber(TAG.sharedFunctionalGroups),
  perFrameFunctionalGroups: tagNumber(TAG.perFrameFunctionalGroups),
  pixelData: tagNumber(TAG.pixelData),
  item: tagNumber(TAG.item),
  itemDelimitation: tagNumber(TAG.itemDelimitationItem),
  sequenceDelimitation: tagNumber(TAG.sequenceDelimitationItem),
} as const;

/** Explicit VRs with a reserved 2 bytes and a 32-bit length (PS3.5 7.1.2, Table 7.1-1). */
export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** VRs of the few tags we decode, for implicit VR data sets (PS3.6). */
export const IMPLICIT_VR: Record<number, string> = {
  [TAG_NUMBER.imageType]: 'CS',
  [TAG_NUMBER.sopClassUID]: 'UI',
  [TAG_NUMBER.sopInstanceUID]: 'UI',
  [TAG_NUMBER.modality]: 'CS',
  [TAG_NUMBER.sliceThickness]: 'DS',
  [TAG_NUMBER.studyInstanceUID]: 'UI',
  [TAG_NUMBER.seriesInstanceUID]: 'UI',
  [TAG_NUMBER.instanceNumber]: 'IS',
  [TAG_NUMBER.imagePositionPatient]: 'DS',
  [TAG_NUMBER.imageOrientationPatient]: 'DS',
  [TAG_NUMBER.frameOfReferenceUID]: 'UI',
  [TAG_NUMBER.samplesPerPixel]: 'US',
  [TAG_NUMBER.photometricInterpretation]: 'CS',
  [TAG_NUMBER.numberOfFrames]: 'IS',
  [TAG_NUMBER.rows]: 'US',
  [TAG_NUMBER.columns]: 'US',
  [TAG_NUMBER.pixelSpacing]: 'DS',
  [TAG_NUMBER.bitsAllocated]: 'US',
  [TAG_NUMBER.bitsStored]: 'US',
  [TAG_NUMBER.highBit]: 'US',
  [TAG_NUMBER.pixelRepresentation]: 'US',
  // US or SS depending on PixelRepresentation; read as US and re-signed afterwards.
  [TAG_NUMBER.pixelPaddingValue]: 'US',
  [TAG_NUMBER.pixelPaddingRangeLimit]: 'US',
  [TAG_NUMBER.rescaleIntercept]: 'DS',
  [TAG_NUMBER.rescaleSlope]: 'DS',
  [TAG_NUMBER.pixelData]: 'OW',
};

/** The length of a sequence, item or encapsulated pixel data closed by a delimiter (PS3.5 7.5). */
export const UNDEFINED_LENGTH = 0xffffffff;

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

/** Whether pixel data in this transfer syntax is native (a defined length), not encapsulated (PS3.5 A.4). */
export function isNativeTransferSyntax(uid: string): boolean {
  return uid === TRANSFER_SYNTAX.implicitVrLittleEndian || uid === TRANSFER_SYNTAX.explicitVrLittleEndian;
}

export function isSupportedTransferSyntax(uid: string): boolean {
  return (
    uid === TRANSFER_SYNTAX.implicitVrLittleEndian ||
    uid === TRANSFER_SYNTAX.explicitVrLittleEndian ||
    uid === TRANSFER_SYNTAX.jpeg2000Lossless ||
    uid === TRANSFER_SYNTAX.jpeg2000
  );
}
