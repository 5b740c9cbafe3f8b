/**
 * CT Image Storage datasets (PS3.3 A.3, CT Image IOD) for the synthetic series. Comments name the
 * IOD modules, so the builder reads like the module table of the standard.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import { ds, type NaturalizedDataset } from './part10';
import type { PixelEncoding } from './encoding';

/** Attributes shared by every object of the study: Patient, General Study, Patient Study, Equipment. */
export interface StudyAttributes {
  specificCharacterSet: string;
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: string;
  patientAge: string;
  patientWeightKg: number;
  patientSizeM: number;
  studyInstanceUID: string;
  studyDate: string;
  studyTime: string;
  accessionNumber: string;
  studyId: string;
  studyDescription: string;
  frameOfReferenceUID: string;
  manufacturer: string;
  modelName: string;
  institutionName: string;
  stationName: string;
  deviceSerialNumber: string;
  softwareVersions: string;
}

export interface ContrastAttributes {
  agent: string;
  route: string;
  volumeMl: number;
  ingredient: string;
  concentrationMgMl: number;
  flowRateMlS: number;
  /** HHMMSS, absent when the scanner did not record it. */
  startTime?: string;
}

export interface CtSeriesAttributes {
  seriesInstanceUID: string;
  seriesNumber: number;
  seriesDescription: string;
  protocolName: string;
  seriesDate: string;
  seriesTime: string;
  patientPosition: string;
  imageType: string[];
  kvp: number;
  tubeCurrentMa: number;
  exposureTimeMs: number;
  convolutionKernel: string;
  reconstructionDiameterMm: number;
  sliceThicknessMm?: number;
  spacingBetweenSlicesMm?: number;
  acquisitionNumber: number;
  acquisitionDate: string;
  /** HHMMSS, absent when the scanner did not record it. */
  acquisitionTime?: string;
  ctdiVol?: number;
  contrast?: ContrastAttributes;
  encoding: PixelEncoding;
  rows: number;
  columns: number;
  /** [row spacing, column spacing], mm. */
  pixelSpacing: [number, number];
  imageOrientation: [number, number, number, number, number, number];
}

export interface CtInstanceAttributes {
  sopInstanceUID: string;
  instanceNumber: number;
  imagePosition: [number, number, number];
  sliceLocation?: number;
  contentTime: string;
  pixelData: Uint8Array;
}

export function ctImageDataset(study: StudyAttributes, series: CtSeriesAttributes, instance: CtInstanceAttributes): NaturalizedDataset {
  const e = series.encoding;
  const ds0: NaturalizedDataset = {
    // SOP Common
    SpecificCharacterSet: study.specificCharacterSet,
    SOPClassUID: SOP_CLASS.ctImageStorage,
    SOPInstanceUID: instance.sopInstanceUID,
    InstanceCreationDate: series.seriesDate,
    InstanceCreationTime: instance.contentTime,
    // Patient
    PatientName: study.patientName,
    PatientID: study.patientId,
    PatientBirthDate: study.patientBirthDate,
    PatientSex: study.patientSex,
    PatientIdentityRemoved: 'NO',
    // General Study
    StudyInstanceUID: study.studyInstanceUID,
    StudyDate: study.studyDate,
    StudyTime: study.studyTime,
    ReferringPhysicianName: '',
    StudyID: study.studyId,
    AccessionNumber: study.accessionNumber,
    StudyDescription: study.studyDescription,
    // Patient Study
    PatientAge: study.patientAge,
    PatientSize: ds(study.patientSizeM, 2),
    PatientWeight: ds(study.patientWeightKg, 1),
    // General Series
    Modality: 'CT',
    SeriesInstanceUID: series.seriesInstanceUID,
    SeriesNumber: series.seriesNumber,
    SeriesDate: series.seriesDate,
    SeriesTime: series.seriesTime,
    SeriesDescription: series.seriesDescription,
    ProtocolName: series.protocolName,
    BodyPartExamined: 'ABDOMEN',
    PatientPosition: series.patientPosition,
    // Frame of Reference
    FrameOfReferenceUID: study.frameOfReferenceUID,
    PositionReferenceIndicator: '',
    // General Equipment
    Manufacturer: study.manufacturer,
    InstitutionName: study.institutionName,
    StationName: study.stationName,
    ManufacturerModelName: study.modelName,
    DeviceSerialNumber: study.deviceSerialNumber,
    SoftwareVersions: study.softwareVersions,
    // General Image
    InstanceNumber: instance.instanceNumber,
    ContentDate: series.seriesDate,
    ContentTime: instance.contentTime,
    AcquisitionNumber: series.acquisitionNumber,
    AcquisitionDate: series.acquisitionDate,
    BurnedInAnnotation: 'NO',
    LossyImageCompression: '00',
    // Image Plane
    PixelSpacing: [ds(series.pixelSpacing[0], 6), ds(series.pixelSpacing[1], 6)],
    ImageOrientationPatient: series.imageOrientation,
    ImagePositionPatient: instance.imagePosition.map((v) => ds(v, 4)),
    SliceThickness: series.sliceThicknessMm === undefined ? '' : ds(series.sliceThicknessMm, 4),
    // Image Pixel
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: series.rows,
    Columns: series.columns,
    BitsAllocated: 16,
    BitsStored: e.bitsStored,
    HighBit: e.bitsStored - 1,
    PixelRepresentation: e.pixelRepresentation,
    // CT Image
    ImageType: series.imageType,
    RescaleIntercept: e.rescaleIntercept,
    RescaleSlope: e.rescaleSlope,
    KVP: series.kvp,
    DataCollectionDiameter: 500,
    ReconstructionDiameter: ds(series.reconstructionDiameterMm, 2),
    DistanceSourceToDetector: 1085.6,
    DistanceSourceToPatient: 595,
    GantryDetectorTilt: 0,
    TableHeight: 160,
    RotationDirection: 'CW',
    ExposureTime: series.exposureTimeMs,
    XRayTubeCurrent: series.tubeCurrentMa,
    FilterType: 'BODY',
    FocalSpots: 1.2,
    ConvolutionKernel: series.convolutionKernel,
    PixelData: instance.pixelData,
  };
  // A localizer's values are not HU (dciodvfy: RescaleType should not be HU for LOCALIZER images).
  if (!series.imageType.includes('LOCALIZER')) ds0.RescaleType = 'HU';
  if (series.acquisitionTime !== undefined) ds0.AcquisitionTime = series.acquisitionTime;
  if (series.spacingBetweenSlicesMm !== undefined) ds0.SpacingBetweenSlices = ds(series.spacingBetweenSlicesMm, 4);
  if (instance.sliceLocation !== undefined) ds0.SliceLocation = ds(instance.sliceLocation, 4);
  if (series.ctdiVol !== undefined) {
    ds0.CTDIvol = ds(series.ctdiVol, 2);
    // CTDIvol is uninterpretable without its phantom (PS3.3 C.8.2.1; CID 4052).
    ds0.CTDIPhantomTypeCodeSequence = [{ CodeValue: '113691', CodingSchemeDesignator: 'DCM', CodeMeaning: 'IEC Body Dosimetry Phantom' }];
  }
  if (e.paddingValue !== undefined) {
    // PixelPaddingValue has VR US or SS, as Pixel Representation (PS3.3 C.7.5.1.1.2).
    ds0.PixelPaddingValue = e.paddingValue;
    ds0._vrMap = { PixelPaddingValue: e.pixelRepresentation === 1 ? 'SS' : 'US' };
  }
  if (series.contrast) {
    // Contrast/Bolus (PS3.3 C.7.6.4): present on contrast-enhanced images.
    const c = series.contrast;
    ds0.ContrastBolusAgent = c.agent;
    ds0.ContrastBolusRoute = c.route;
    ds0.ContrastBolusVolume = ds(c.volumeMl, 1);
    ds0.ContrastBolusIngredient = c.ingredient;
    ds0.ContrastBolusIngredientConcentration = ds(c.concentrationMgMl, 1);
    ds0.ContrastFlowRate = [ds(c.flowRateMlS, 2)];
    ds0.ContrastFlowDuration = [ds(c.volumeMl / c.flowRateMlS, 1)];
    if (c.startTime !== undefined) ds0.ContrastBolusStartTime = c.startTime;
  }
  return ds0;
}
