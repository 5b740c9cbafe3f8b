/**
 * Small CT series for the damage fuzz suite (fuzzDamage.test.ts), written by a Part-10 writer of
 * the test's own, element by element, so that a test can damage any element before writing (a
 * value, a VR, a missing or contradictory attribute) or any byte after (a length field, a cut).
 * dcmjs would be too slow for hundreds of cases and cannot write broken files.
 *
 * The CT numbers of voxel (column i, row j, slice k) are `huAt(i, j, k)`, within -1000 to 999 HU,
 * stored in one of the encodings real scanners use (`ENCODINGS`); slice k lies at z = k *
 * thickness, so volume slice k is instance k.
 */
import { SOP_CLASS, TAG, TRANSFER_SYNTAX } from '../../../src/dicom/dictionary';
import { uidFromText } from '../../harness/simpleCtSeries';

/** One data element: tag as the dictionary writes it ("00280010"), VR, value bytes. */
export interface Element {
  tag: string;
  vr: string;
  value: Buffer;
}

/** How HU become stored values: the encodings of src/synthetic/encoding.ts, as scanners write them. */
export interface Encoding {
  name: string;
  pixelRepresentation: 0 | 1;
  bitsStored: number;
  rescaleSlope: number;
  rescaleIntercept: number;
}

export const ENCODINGS: readonly Encoding[] = [
  { name: 'int16 HU', pixelRepresentation: 1, bitsStored: 16, rescaleSlope: 1, rescaleIntercept: 0 },
  { name: 'int16 -1024', pixelRepresentation: 1, bitsStored: 16, rescaleSlope: 1, rescaleIntercept: -1024 },
  { name: 'uint12 -1024', pixelRepresentation: 0, bitsStored: 12, rescaleSlope: 1, rescaleIntercept: -1024 },
  { name: 'uint16 slope 0.5', pixelRepresentation: 0, bitsStored: 16, rescaleSlope: 0.5, rescaleIntercept: -1024 },
];

export interface SeriesSpec {
  seed: string;
  rows: number;
  columns: number;
  slices: number;
  /** [row spacing, column spacing], mm. */
  pixelSpacing: [number, number];
  thickness: number;
  encoding: Encoding;
}

/** Tags the writer needs beyond the node's dictionary (src/dicom/dictionary.ts), by PS3.6 keyword. */
export const WRITER_TAGS = {
  fileMetaInformationGroupLength: '00020000',
  fileMetaInformationVersion: '00020001',
  mediaStorageSopClassUID: '00020002',
  mediaStorageSopInstanceUID: '00020003',
  implementationClassUID: '00020012',
  patientName: '00100010',
  rescaleType: '00281054',
} as const;

export const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** CT number of voxel (i, j, k): every value from -1000 to 999 HU occurs. */
export function huAt(i: number, j: number, k: number): number {
  return ((i * 7 + j * 13 + k * 29) % 2000) - 1000;
}

/** A text value, padded to even length (NUL for UI, space otherwise; PS3.5 6.2). */
export function textValue(vr: string, value: string): Buffer {
  const padded = value.length % 2 === 1 ? value + (vr === 'UI' ? '\0' : ' ') : value;
  return Buffer.from(padded, 'latin1');
}

export function textElement(tag: string, vr: string, value: string): Element {
  return { tag, vr, value: textValue(vr, value) };
}

export function usElement(tag: string, value: number): Element {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value & 0xffff);
  return { tag, vr: 'US', value: bytes };
}

/** DS values as a scanner writes them: at most 16 characters. */
export function dsText(values: readonly number[]): string {
  return values.map((value) => String(Math.round(value * 1e6) / 1e6)).join('\\');
}

function storedPixels(spec: SeriesSpec, k: number): Buffer {
  const { rows, columns, encoding } = spec;
  const bytes = Buffer.alloc(rows * columns * 2);
  for (let j = 0; j < rows; j++) {
    for (let i = 0; i < columns; i++) {
      const stored = (huAt(i, j, k) - encoding.rescaleIntercept) / encoding.rescaleSlope;
      if (encoding.pixelRepresentation === 1) bytes.writeInt16LE(stored, (j * columns + i) * 2);
      else bytes.writeUInt16LE(stored, (j * columns + i) * 2);
    }
  }
  return bytes;
}

/** UIDs of the series and of its slices. */
export function seriesUids(spec: SeriesSpec): { study: string; series: string; frame: string; instance: (k: number) => string } {
  return {
    study: uidFromText(`${spec.seed}/study`),
    series: uidFromText(`${spec.seed}/series`),
    frame: uidFromText(`${spec.seed}/frame`),
    instance: (k) => uidFromText(`${spec.seed}/instance/${k}`),
  };
}

/** The data set of slice k (CT Image, PS3.3 A.3, the attributes the node reads and a few more), in tag order. */
export function sliceElements(spec: SeriesSpec, k: number): Element[] {
  const uids = seriesUids(spec);
  const { encoding } = spec;
  return [
    textElement(TAG.imageType, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    textElement(TAG.sopClassUID, 'UI', SOP_CLASS.ctImageStorage),
    textElement(TAG.sopInstanceUID, 'UI', uids.instance(k)),
    textElement(TAG.modality, 'CS', 'CT'),
    textElement(WRITER_TAGS.patientName, 'PN', 'Fuzz^Synthetic'),
    textElement(TAG.sliceThickness, 'DS', dsText([spec.thickness])),
    textElement(TAG.studyInstanceUID, 'UI', uids.study),
    textElement(TAG.seriesInstanceUID, 'UI', uids.series),
    textElement(TAG.seriesNumber, 'IS', '3'),
    textElement(TAG.instanceNumber, 'IS', String(k + 1)),
    textElement(TAG.imagePositionPatient, 'DS', dsText([-50, -40, k * spec.thickness])),
    textElement(TAG.imageOrientationPatient, 'DS', '1\\0\\0\\0\\1\\0'),
    textElement(TAG.frameOfReferenceUID, 'UI', uids.frame),
    usElement(TAG.samplesPerPixel, 1),
    textElement(TAG.photometricInterpretation, 'CS', 'MONOCHROME2'),
    usElement(TAG.rows, spec.rows),
    usElement(TAG.columns, spec.columns),
    textElement(TAG.pixelSpacing, 'DS', dsText(spec.pixelSpacing)),
    usElement(TAG.bitsAllocated, 16),
    usElement(TAG.bitsStored, encoding.bitsStored),
    usElement(TAG.highBit, encoding.bitsStored - 1),
    usElement(TAG.pixelRepresentation, encoding.pixelRepresentation),
    textElement(TAG.rescaleIntercept, 'DS', dsText([encoding.rescaleIntercept])),
    textElement(TAG.rescaleSlope, 'DS', dsText([encoding.rescaleSlope])),
    textElement(WRITER_TAGS.rescaleType, 'LO', 'HU'),
    { tag: TAG.pixelData, vr: 'OW', value: storedPixels(spec, k) },
  ];
}

/** The File Meta Information of a slice (PS3.10 7.1), without its group length. */
export function metaElements(spec: SeriesSpec, k: number, transferSyntaxUID: string): Element[] {
  return [
    { tag: WRITER_TAGS.fileMetaInformationVersion, vr: 'OB', value: Buffer.from([0, 1]) },
    textElement(WRITER_TAGS.mediaStorageSopClassUID, 'UI', SOP_CLASS.ctImageStorage),
    textElement(WRITER_TAGS.mediaStorageSopInstanceUID, 'UI', seriesUids(spec).instance(k)),
    textElement(TAG.transferSyntaxUID, 'UI', transferSyntaxUID),
    textElement(WRITER_TAGS.implementationClassUID, 'UI', uidFromText('tsr-node fuzz writer')),
  ];
}

/** Where an element landed in the written file. */
export interface WrittenElement {
  tag: string;
  /** Offset of its length field, and how many bytes that field has (2 or 4). */
  lengthOffset: number;
  lengthBytes: 2 | 4;
  /** Offset of its VR (explicit VR only). */
  vrOffset?: number;
  valueOffset: number;
}

function tagBytes(tag: string): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt16LE(parseInt(tag.slice(0, 4), 16), 0);
  bytes.writeUInt16LE(parseInt(tag.slice(4), 16), 2);
  return bytes;
}

/** One element's bytes (explicit or implicit VR little endian, PS3.5 7.1) and where its fields are. */
function encodeElement(element: Element, explicit: boolean, at: number): { bytes: Buffer; written: WrittenElement } {
  const parts = [tagBytes(element.tag)];
  let written: WrittenElement;
  if (!explicit) {
    const length = Buffer.alloc(4);
    length.writeUInt32LE(element.value.length);
    parts.push(length);
    written = { tag: element.tag, lengthOffset: at + 4, lengthBytes: 4, valueOffset: at + 8 };
  } else if (LONG_VRS.has(element.vr)) {
    const header = Buffer.alloc(8);
    header.write(element.vr, 0, 'latin1');
    header.writeUInt32LE(element.value.length, 4);
    parts.push(header);
    written = { tag: element.tag, vrOffset: at + 4, lengthOffset: at + 8, lengthBytes: 4, valueOffset: at + 12 };
  } else {
    const header = Buffer.alloc(4);
    header.write(element.vr.padEnd(2, ' ').slice(0, 2), 0, 'latin1');
    header.writeUInt16LE(element.value.length & 0xffff, 2);
    parts.push(header);
    written = { tag: element.tag, vrOffset: at + 4, lengthOffset: at + 6, lengthBytes: 2, valueOffset: at + 8 };
  }
  parts.push(element.value);
  return { bytes: Buffer.concat(parts), written };
}

export interface Part10File {
  bytes: Buffer;
  elements: WrittenElement[];
}

/**
 * A Part-10 file: preamble, "DICM", the meta group (explicit VR little endian, with its group
 * length) and the data set, explicit or implicit VR little endian as `explicit` says (whatever
 * the meta's TransferSyntaxUID claims, so a test can make the two disagree).
 */
export function writePart10(meta: Element[], dataSet: Element[], explicit: boolean): Part10File {
  const chunks: Buffer[] = [Buffer.alloc(128), Buffer.from('DICM', 'latin1')];
  const elements: WrittenElement[] = [];
  let at = 132;
  const metaBytes = meta.map((element) => encodeElement(element, true, 0).bytes);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(metaBytes.reduce((sum, bytes) => sum + bytes.length, 0));
  for (const element of [{ tag: WRITER_TAGS.fileMetaInformationGroupLength, vr: 'UL', value: groupLength }, ...meta]) {
    const { bytes, written } = encodeElement(element, true, at);
    chunks.push(bytes);
    elements.push(written);
    at += bytes.length;
  }
  for (const element of dataSet) {
    const { bytes, written } = encodeElement(element, explicit, at);
    chunks.push(bytes);
    elements.push(written);
    at += bytes.length;
  }
  return { bytes: Buffer.concat(chunks), elements };
}

/** A slice as written, undamaged. */
export function writeSlice(spec: SeriesSpec, k: number, explicit: boolean): Part10File {
  const syntax = explicit ? TRANSFER_SYNTAX.explicitVrLittleEndian : TRANSFER_SYNTAX.implicitVrLittleEndian;
  return writePart10(metaElements(spec, k, syntax), sliceElements(spec, k), explicit);
}

/** The HU volume the undamaged series must give: slice k, row j, column i at k * rows * columns + j * columns + i. */
export function expectedHu(spec: SeriesSpec): Float32Array {
  const { rows, columns, slices } = spec;
  const volume = new Float32Array(rows * columns * slices);
  for (let k = 0; k < slices; k++) {
    for (let j = 0; j < rows; j++) for (let i = 0; i < columns; i++) volume[(k * rows + j) * columns + i] = huAt(i, j, k);
  }
  return volume;
}
