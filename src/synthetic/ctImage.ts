/**
 * CT Image Storage datasets (PS3.3 A.3, CT Image IOD) for the synthetic series: one function per
 * IOD module, so the builder reads like the module table of the standard.
 */
import { SOP_CLASS } from '../dicom/dictionary';
import type { PixelEncoding } from './encoding';
import { ds, type NaturalizedDataset } from './part10';
import { generalEquipmentModule, generalStudyModule, patientModule, patientStudyModule, type StudyAttributes } from './studyModules';

export type { StudyAttributes } from './studyModules';

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

/** A CT Image Storage dataset: the modules of the CT Image IOD (PS3.3 A.3.3) that the generator writes. */
export function ctImageDataset(study: StudyAttributes, series: CtSeriesAttributes, instance: CtInstanceAttributes): NaturalizedDataset {
  return {
    ...sopCommonModule(study, series, instance),
    ...patientModule(study),
    PatientIdentityRemoved: 'NO',
    ...generalStudyModule(study),
    ...patientStudyModule(study),
    ...generalSeriesModule(series),
    ...frameOfReferenceModule(study),
    ...generalEquipmentModule(study),
    ...pixelPaddingValue(series.encoding),
    ...generalImageModule(series, instance),
    ...imagePlaneModule(series, instance),
    ...imagePixelModule(series, instance),
    ...ctImageModule(series),
    ...contrastBolusModule(series.contrast),
  };
}

/** SOP Common (PS3.3 C.12.1). */
function sopCommonModule(study: StudyAttributes, series: CtSeriesAttributes, instance: CtInstanceAttributes): NaturalizedDataset {
  return {
    SpecificCharacterSet: study.specificCharacterSet,
    SOPClassUID: SOP_CLASS.ctImageStorage,
    SOPInstanceUID: instance.sopInstanceUID,
    InstanceCreationDate: series.seriesDate,
    InstanceCreationTime: instance.contentTime,
  };
}

/** General Series (PS3.3 C.7.3.1). */
function generalSeriesModule(series: CtSeriesAttributes): NaturalizedDataset {
  return {
    Modality: 'CT',
    SeriesInstanceUID: series.seriesInstanceUID,
    SeriesNumber: series.seriesNumber,
    SeriesDate: series.seriesDate,
    SeriesTime: series.seriesTime,
    SeriesDescription: series.seriesDescription,
    ProtocolName: series.protocolName,
    BodyPartExamined: 'ABDOMEN',
    PatientPosition: series.patientPosition,
  };
}

/** Frame of Reference (PS3.3 C.7.4.1). */
function frameOfReferenceModule(study: StudyAttributes): NaturalizedDataset {
  return {
    FrameOfReferenceUID: study.frameOfReferenceUID,
    PositionReferenceIndicator: '',
  };
}

/** Pixel Padding Value (General Equipment, PS3.3 C.7.5.1), where the encoding pads outside the reconstruction circle. */
function pixelPaddingValue(encoding: PixelEncoding): NaturalizedDataset {
  if (encoding.paddingValue === undefined) return {};
  // PixelPaddingValue has VR US or SS, as Pixel Representation (PS3.3 C.7.5.1.1.2).
  return {
    PixelPaddingValue: encoding.paddingValue,
    _vrMap: { PixelPaddingValue: encoding.pixelRepresentation === 1 ? 'SS' : 'US' },
  };
}

/** General Image (PS3.3 C.7.6.1). */
function generalImageModule(series: CtSeriesAttributes, instance: CtInstanceAttributes): NaturalizedDataset {
  return {
    InstanceNumber: instance.instanceNumber,
    ContentDate: series.seriesDate,
    ContentTime: instance.contentTime,
    AcquisitionNumber: series.acquisitionNumber,
    AcquisitionDate: series.acquisitionDate,
    ...(series.acquisitionTime !== undefined ? { AcquisitionTime: series.acquisitionTime } : {}),
    BurnedInAnnotation: 'NO',
    LossyImageCompression: '00',
  };
}

/** Image Plane (PS3.3 C.7.6.2). */
function imagePlaneModule(series: CtSeriesAttributes, instance: CtInstanceAttributes): NaturalizedDataset {
  return {
    PixelSpacing: [ds(series.pixelSpacing[0], 6), ds(series.pixelSpacing[1], 6)],
    ImageOrientationPatient: series.imageOrientation,
    ImagePositionPatient: instance.imagePosition.map((coordinate) => ds(coordinate, 4)),
    SliceThickness: series.sliceThicknessMm === undefined ? '' : ds(series.sliceThicknessMm, 4),
    ...(series.spacingBetweenSlicesMm !== undefined ? { SpacingBetweenSlices: ds(series.spacingBetweenSlicesMm, 4) } : {}),
    ...(instance.sliceLocation !== undefined ? { SliceLocation: ds(instance.sliceLocation, 4) } : {}),
  };
}

/** Image Pixel (PS3.3 C.7.6.3). */
function imagePixelModule(series: CtSeriesAttributes, instance: CtInstanceAttributes): NaturalizedDataset {
  const encoding = series.encoding;
  return {
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: series.rows,
    Columns: series.columns,
    BitsAllocated: 16,
    BitsStored: encoding.bitsStored,
    HighBit: encoding.bitsStored - 1,
    PixelRepresentation: encoding.pixelRepresentation,
    PixelData: instance.pixelData,
  };
}

/** CT Image (PS3.3 C.8.2.1). */
function ctImageModule(series: CtSeriesAttributes): NaturalizedDataset {
  const encoding = series.encoding;
  return {
    ImageType: series.imageType,
    RescaleIntercept: encoding.rescaleIntercept,
    RescaleSlope: encoding.rescaleSlope,
    // A localizer's values are not HU (dciodvfy: RescaleType should not be HU for LOCALIZER images).
    ...(series.imageType.includes('LOCALIZER') ? {} : { RescaleType: 'HU' }),
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
    ...(series.ctdiVol !== undefined
      ? {
          CTDIvol: ds(series.ctdiVol, 2),
          // CTDIvol is uninterpretable without its phantom (PS3.3 C.8.2.1; CID 4052).
          CTDIPhantomTypeCodeSequence: [{ CodeValue: '113691', CodingSchemeDesignator: 'DCM', CodeMeaning: 'IEC Body Dosimetry Phantom' }],
        }
      : {}),
  };
}

/** Contrast/Bolus (PS3.3 C.7.6.4): present on contrast-enhanced images. */
function contrastBolusModule(contrast: ContrastAttributes | undefined): NaturalizedDataset {
  if (!contrast) return {};
  return {
    ContrastBolusAgent: contrast.agent,
    ContrastBolusRoute: contrast.route,
    ContrastBolusVolume: ds(contrast.volumeMl, 1),
    ContrastBolusIngredient: contrast.ingredient,
    ContrastBolusIngredientConcentration: ds(contrast.concentrationMgMl, 1),
    ContrastFlowRate: [ds(contrast.flowRateMlS, 2)],
    ContrastFlowDuration: [ds(contrast.volumeMl / contrast.flowRateMlS, 1)],
    ...(contrast.startTime !== undefined ? { ContrastBolusStartTime: contrast.startTime } : {}),
  };
}
