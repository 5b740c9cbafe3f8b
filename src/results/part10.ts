/**
 * Writing and reading DICOM Part 10 files (PS3.10) with dcmjs, used as a codec only: the datasets
 * themselves are built by the pure builders in sr/ and sc/ as naturalized objects (dcmjs keywords).
 */
import { TRANSFER_SYNTAX } from '../dicom/dictionary';
import { PACKAGE_VERSION } from '../paths';
import { uuidDerivedUid } from './uids';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(options?: Record<string, unknown>): ArrayBuffer };
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: unknown; dict: unknown } };
    DicomMetaDictionary: {
      denaturalizeDataset(ds: Record<string, unknown>): unknown;
      naturalizeDataset(ds: unknown): NaturalizedDataset;
    };
  };
  log: { setLevel?(level: string): void };
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A dataset keyed by DICOM keywords, the form dcmjs "naturalizes" to. */
export type NaturalizedDataset = Record<string, unknown>;

/** Implementation Class UID of tsr-node (PS3.7 D.3.3.2), stable across releases. */
export const IMPLEMENTATION_CLASS_UID = uuidDerivedUid('tsr-node/implementation-class');
/** At most 16 characters (SH). */
export const IMPLEMENTATION_VERSION_NAME = `TSRNODE_${PACKAGE_VERSION}`.slice(0, 16);

/** Part 10 bytes (preamble, File Meta Information, explicit VR little endian dataset). */
export function writePart10(dataset: NaturalizedDataset): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const sopClassUID = dataset.SOPClassUID;
  const sopInstanceUID = dataset.SOPInstanceUID;
  if (typeof sopClassUID !== 'string' || typeof sopInstanceUID !== 'string') {
    throw new TypeError('writePart10: SOPClassUID and SOPInstanceUID are required');
  }
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUID,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: TRANSFER_SYNTAX.explicitVrLittleEndian,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
    _vrMap: { FileMetaInformationVersion: 'OB' },
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** Reads Part 10 bytes back into a naturalized dataset (for tests and checks). */
export function readPart10(bytes: Uint8Array): NaturalizedDataset {
  const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const message = dcmjs.data.DicomMessage.readFile(copy);
  return dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
}
