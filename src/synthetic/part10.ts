/**
 * Writes a naturalized dataset as a DICOM Part 10 file (PS3.10 7.1: preamble, "DICM", File Meta
 * Information) in explicit VR little endian, with dcmjs as the codec.
 */
import { syntheticUid } from './uid';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(options?: Record<string, unknown>): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): unknown };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const IMPLEMENTATION_CLASS_UID = syntheticUid('implementation-class');
export const IMPLEMENTATION_VERSION_NAME = 'TSRNODE_SYNTH1';

export type NaturalizedDataset = Record<string, unknown>;

export function writePart10(dataset: NaturalizedDataset): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
    _vrMap: { FileMetaInformationVersion: 'OB' },
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

/** A number rounded for a DS (decimal string, at most 16 characters; PS3.5 6.2). */
export function ds(value: number, decimals = 4): number {
  const rounded = Number(value.toFixed(decimals));
  return Object.is(rounded, -0) ? 0 : rounded;
}
