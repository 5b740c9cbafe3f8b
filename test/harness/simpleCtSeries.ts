/**
 * Plain CT Image Storage instances for I/O tests and benchmarks: valid enough for Orthanc and
 * DICOMweb (explicit VR little endian, the modules of the CT Image IOD, PS3.3 A.3), no anatomy.
 * UIDs are derived from a seed, so the same options give the same files.
 *
 * Pixel value of voxel (column i, row j, slice k) is `(i + 2 * j + 3 * k) % 2000 - 1000`
 * (stored as signed 16-bit with RescaleIntercept 0), so a test can check bytes after a round trip.
 */
import { SOP_CLASS, TRANSFER_SYNTAX } from '../../src/dicom/dictionary';
import { createHash } from 'node:crypto';

/* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
const dcmjs = require('dcmjs') as {
  data: {
    DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
    DicomMetaDictionary: { denaturalizeDataset(ds: Record<string, unknown>): unknown };
  };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export interface SimpleCtSeriesOptions {
  /** Seed of every UID; the same seed gives the same study, series and instances. */
  seed: string;
  rows?: number;
  columns?: number;
  slices?: number;
  /** Defaults to a UID derived from the seed. Give it to put several series in one study. */
  studyInstanceUID?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** mm; also the spacing between slices. */
  sliceThickness?: number;
  /** [row spacing, column spacing] in mm. */
  pixelSpacing?: [number, number];
  /** Extra naturalized attributes merged over the generated ones (e.g. ContrastBolusAgent). */
  extra?: Record<string, unknown>;
  /** Stored value of voxel (column i, row j, slice k); default `expectedPixel`. */
  pixel?: (i: number, j: number, k: number) => number;
}

export interface SimpleCtInstance {
  sopInstanceUID: string;
  /** A Part 10 file (with its 128-byte preamble and File Meta Information). */
  part10: Buffer;
}

export interface SimpleCtSeries {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  instances: SimpleCtInstance[];
}

/** 2.25 UID (PS3.5 B.2) from a SHA-256 of the text: deterministic, at most 64 characters. */
export function uidFromText(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  const value = BigInt('0x' + digest.subarray(0, 16).toString('hex'));
  return '2.25.' + value.toString(10);
}

export function expectedPixel(i: number, j: number, k: number): number {
  return ((i + 2 * j + 3 * k) % 2000) - 1000;
}

export function makeSimpleCtSeries(options: SimpleCtSeriesOptions): SimpleCtSeries {
  const rows = options.rows ?? 64;
  const columns = options.columns ?? 64;
  const slices = options.slices ?? 20;
  const thickness = options.sliceThickness ?? 2.5;
  const pixelSpacing = options.pixelSpacing ?? [0.7, 0.7];
  const studyInstanceUID = options.studyInstanceUID ?? uidFromText(`${options.seed}/study`);
  const seriesNumber = options.seriesNumber ?? 1;
  const seriesInstanceUID = uidFromText(`${options.seed}/series/${studyInstanceUID}/${seriesNumber}`);
  const frameOfReferenceUID = uidFromText(`${options.seed}/frame/${studyInstanceUID}`);

  const instances: SimpleCtInstance[] = [];
  for (let k = 0; k < slices; k++) {
    const sopInstanceUID = uidFromText(`${seriesInstanceUID}/instance/${k}`);
    const pixels = new Int16Array(rows * columns);
    for (let j = 0; j < rows; j++) {
      for (let i = 0; i < columns; i++) pixels[j * columns + i] = (options.pixel ?? expectedPixel)(i, j, k);
    }
    const dataset: Record<string, unknown> = {
      // SOP Common
      SOPClassUID: SOP_CLASS.ctImageStorage,
      SOPInstanceUID: sopInstanceUID,
      SpecificCharacterSet: 'ISO_IR 100',
      // Patient (synthetic; never a real person)
      PatientName: 'Synthetic^Simple',
      PatientID: `SIMPLE-${options.seed}`.slice(0, 64),
      PatientBirthDate: '',
      PatientSex: 'O',
      // General Study
      StudyInstanceUID: studyInstanceUID,
      StudyDate: '20240101',
      StudyTime: '120000',
      ReferringPhysicianName: '',
      StudyID: '1',
      AccessionNumber: '',
      StudyDescription: 'Simple CT for I/O tests',
      // General Series
      Modality: 'CT',
      SeriesInstanceUID: seriesInstanceUID,
      SeriesNumber: seriesNumber,
      SeriesDescription: options.seriesDescription ?? 'simple',
      PatientPosition: 'FFS',
      BodyPartExamined: 'ABDOMEN',
      // Frame of Reference
      FrameOfReferenceUID: frameOfReferenceUID,
      PositionReferenceIndicator: '',
      // General Equipment
      Manufacturer: 'tsr-node test harness',
      // General Image
      InstanceNumber: k + 1,
      // Image Plane
      PixelSpacing: pixelSpacing,
      ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
      ImagePositionPatient: [-(columns * pixelSpacing[1]) / 2, -(rows * pixelSpacing[0]) / 2, -k * thickness].map(roundDs),
      SliceThickness: thickness,
      // Image Pixel
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: rows,
      Columns: columns,
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 1,
      // CT Image
      ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      RescaleIntercept: 0,
      RescaleSlope: 1,
      RescaleType: 'HU',
      KVP: 120,
      AcquisitionNumber: 1,
      PixelData: [pixels.buffer],
      _vrMap: { PixelData: 'OW' },
      ...options.extra,
    };
    instances.push({ sopInstanceUID, part10: writePart10(dataset) });
  }
  return { studyInstanceUID, seriesInstanceUID, instances };
}

/** DS values are at most 16 characters (PS3.5 6.2); round away binary fractions like 16.799999999999997. */
function roundDs(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function writePart10(dataset: Record<string, unknown>): Buffer {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const version = new Uint8Array([0, 1]);
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: version.buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: TRANSFER_SYNTAX.explicitVrLittleEndian,
    ImplementationClassUID: uidFromText('tsr-node test harness'),
    ImplementationVersionName: 'TSR_TEST',
    _vrMap: { FileMetaInformationVersion: 'OB' },
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}
