/**
 * Small Part-10 writer for the study tests: one CT slice with exactly the attributes a test
 * wants (pixel format, rescale, padding, position), written by dcmjs in explicit or implicit VR
 * little endian.
 */
import { uidFromText } from '../../harness/simpleCtSeries';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(options?: Record<string, unknown>): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): unknown };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const IMPLICIT_LE = '1.2.840.10008.1.2';

export interface SliceOptions {
  sopInstanceUID?: string;
  seriesInstanceUID?: string;
  rows?: number;
  columns?: number;
  /** Stored values, row-major. Default: 0. */
  pixels?: Int16Array | Uint16Array;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  position?: [number, number, number];
  orientation?: number[];
  pixelSpacing?: [number, number];
  /** Extra naturalized attributes. */
  extra?: Record<string, unknown>;
  transferSyntaxUID?: string;
}

export function ctSlice(o: SliceOptions = {}): Buffer {
  const rows = o.rows ?? 4;
  const columns = o.columns ?? 4;
  const pixelRepresentation = o.pixelRepresentation ?? 1;
  const pixels = o.pixels ?? (pixelRepresentation === 1 ? new Int16Array(rows * columns) : new Uint16Array(rows * columns));
  const bitsStored = o.bitsStored ?? 16;
  const sopInstanceUID = o.sopInstanceUID ?? uidFromText(`slice/${Math.random()}`);
  const dataset: Record<string, unknown> = {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
    SOPInstanceUID: sopInstanceUID,
    Modality: 'CT',
    StudyInstanceUID: uidFromText('part10Builder/study'),
    SeriesInstanceUID: o.seriesInstanceUID ?? uidFromText('part10Builder/series'),
    FrameOfReferenceUID: uidFromText('part10Builder/frame'),
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    ImagePositionPatient: o.position ?? [0, 0, 0],
    ImageOrientationPatient: o.orientation ?? [1, 0, 0, 0, 1, 0],
    PixelSpacing: o.pixelSpacing ?? [0.5, 0.5],
    SliceThickness: 1,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 16,
    BitsStored: bitsStored,
    HighBit: bitsStored - 1,
    PixelRepresentation: pixelRepresentation,
    PixelData: [pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength)],
    _vrMap: { PixelData: 'OW' },
    ...o.extra,
  };
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: sopInstanceUID,
    TransferSyntaxUID: o.transferSyntaxUID ?? EXPLICIT_LE,
    ImplementationClassUID: uidFromText('tsr-node study tests'),
    _vrMap: { FileMetaInformationVersion: 'OB' },
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}
