/**
 * Writes a naturalized dataset as a DICOM Part 10 file (PS3.10 7.1: preamble, "DICM", File Meta
 * Information) in explicit VR little endian, with dcmjs as the codec.
 */
import { TRANSFER_SYNTAX } from '../dicom/dictionary';
import { syntheticUid } from './uid';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(options?: Record<string, unknown>): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): unknown };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const IMPLEMENTATION_CLASS_UID = syntheticUid('implementation-class');
export const IMPLEMENTATION_VERSION_NAME = 'TSRNODE_SYNTH1';

export type NaturalizedDataset = Record<string, unknown>;

/**
 * Part 10 bytes of the dataset. Pixel Data (7FE0,0010), the last element, is appended by hand
 * (explicit VR little endian: tag, "OW", two reserved bytes, 32-bit length, the words) instead
 * of going through dcmjs, which copies a large buffer several times; everything else is written
 * by dcmjs.
 */
export function writePart10(dataset: NaturalizedDataset): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: TRANSFER_SYNTAX.explicitVrLittleEndian,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
    _vrMap: { FileMetaInformationVersion: 'OB' },
  });
  const { PixelData: pixels, ...rest } = dataset;
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(rest);
  const head = new Uint8Array(dict.write());
  if (pixels === undefined) return head;
  if (!(pixels instanceof Uint8Array)) throw new TypeError('PixelData must be a Uint8Array of 16-bit words');
  const padded = pixels.length % 2 === 1;
  const length = pixels.length + (padded ? 1 : 0);
  const out = new Uint8Array(head.length + 12 + length);
  out.set(head, 0);
  const view = new DataView(out.buffer, head.length, 12);
  view.setUint16(0, 0x7fe0, true);
  view.setUint16(2, 0x0010, true);
  view.setUint8(4, 0x4f); // 'O'
  view.setUint8(5, 0x57); // 'W'
  view.setUint16(6, 0, true);
  view.setUint32(8, length, true);
  out.set(pixels, head.length + 12);
  return out;
}

/** A number rounded for a DS (decimal string, at most 16 characters; PS3.5 6.2). */
export function ds(value: number, decimals = 4): number {
  const rounded = Number(value.toFixed(decimals));
  return Object.is(rounded, -0) ? 0 : rounded;
}
