/**
 * A BINARY Segmentation (PS3.3 A.51, Segmentation IOD) on the frames of one source series: the
 * same patient and study as the SR and the SC (commonModules.ts), a new series, and one frame per
 * source image a segment touches, each pointing at its source image. A pure builder: typed options
 * in, a naturalized dataset out; the clock and the UIDs come in through the options.
 *
 * It takes a list of segments: today the tumour (seg/tumourSegment.ts); a pancreas segment from a
 * pancreas stage is one more entry in that list, with its own codes, algorithm and frames.
 */
import { SOP_CLASS, TAG } from '../../dicom/dictionary';
import { jsonNumber, jsonString } from '../../dicomweb/dicomJson';
import { indexToPatient, type Geometry } from '../../study/geometry';
import { CODES, codeItem, IHE_SCHEME, type Code } from '../codes';
import { checkSeriesDescription, commonModules, type ResultObjectOptions } from '../commonModules';
import { dicomDate, dicomTime } from '../dicomDateTime';
import type { NaturalizedDataset } from '../part10';
import { decimalString } from '../sr/contentItems';
import type { AlgorithmIdentification } from '../sr/templates';
import { validSourceString } from '../validSourceValues';
import type { SegmentFrame } from './segmentFrames';
import { dicomLabFromRgb, packBinaryFrames } from './segmentPixels';

/** The series whose images the segments are drawn on (its frames are theirs). */
export interface SegmentationSource {
  seriesInstanceUID: string;
  sopClassUID: string;
  /** The source image of each slice k of `geometry`. */
  sopInstanceUIDs: readonly string[];
  /** The grid of the volume assembled from the series (study/geometry.ts). */
  geometry: Geometry;
}

/** One segment (PS3.3 C.8.20.2 Segment Sequence item) and its pixels. */
export interface SegmentDefinition {
  /** Segment Label (LO). */
  label: string;
  /** Segment Description (ST). */
  description?: string;
  /** CID 7150 "Segmentation Property Category". */
  category: Code;
  /** CID 7151 "Segmentation Property Type". */
  type: Code;
  /** CID 4 "Anatomic Region". */
  anatomicRegion?: Code;
  /** The model that made the segment: Segment Algorithm Name and the Algorithm Identification macro. */
  algorithm: AlgorithmIdentification;
  /** sRGB 0-255, written as Recommended Display CIELab Value. */
  displayColour?: [number, number, number];
  /** Tracking ID and Tracking UID: the same finding as the SR's measurement group. */
  tracking?: { id: string; uid: string };
  /** The source slices the segment touches, each with its mask. */
  frames: SegmentFrame[];
}

export interface SegmentationOptions extends ResultObjectOptions {
  source: SegmentationSource;
  segments: SegmentDefinition[];
  /** Content Label (CS, at most 16 characters, A-Z 0-9 _ and space). */
  contentLabel: string;
  contentDescription?: string;
}

/** A frame of the SEG: which segment, which source slice, and the slice's rank along the normal. */
interface SegFrame {
  segmentNumber: number;
  frame: SegmentFrame;
  positionIndex: number;
}

function checkOptions(options: SegmentationOptions): void {
  const { source, segments } = options;
  const [columns, rows, slices] = source.geometry.dims;
  if (source.sopInstanceUIDs.length !== slices) throw new RangeError(`source.sopInstanceUIDs: ${source.sopInstanceUIDs.length} images for ${slices} slices`);
  // One single-frame image per slice (multi-frame sources are refused before analysis): frames reference images, not frames of one.
  if (new Set(source.sopInstanceUIDs).size !== slices) throw new RangeError('source.sopInstanceUIDs: one distinct single-frame image per slice is needed');
  if (columns > 65535 || rows > 65535) throw new RangeError('source.geometry: at most 65535 rows and columns (US)');
  if (segments.length === 0) throw new RangeError('segments: at least one segment is needed');
  segments.forEach((segment, s) => {
    if (segment.label.length === 0 || segment.label.length > 64) throw new RangeError(`segments[${s}].label: 1 to 64 characters (LO)`);
    if (segment.frames.length === 0) throw new RangeError(`segments[${s}].frames: a segment needs at least one frame`);
    const seen = new Set<number>();
    for (const frame of segment.frames) {
      if (!Number.isInteger(frame.sliceIndex) || frame.sliceIndex < 0 || frame.sliceIndex >= slices) {
        throw new RangeError(`segments[${s}].frames: slice index ${frame.sliceIndex} is not a slice of the source (0 to ${slices - 1})`);
      }
      if (seen.has(frame.sliceIndex)) throw new RangeError(`segments[${s}].frames: slice ${frame.sliceIndex} twice`);
      seen.add(frame.sliceIndex);
      if (frame.mask.length !== columns * rows) throw new RangeError(`segments[${s}].frames: a mask of ${frame.mask.length} pixels, expected ${columns * rows}`);
    }
  });
  if ((options.contentDescription ?? '').length > 64) throw new RangeError('contentDescription: at most 64 characters (LO)');
  if (!/^[A-Z0-9_ ]{1,16}$/.test(options.contentLabel)) throw new RangeError(`contentLabel: 1 to 16 of A-Z, 0-9, _ and space (CS), got ${JSON.stringify(options.contentLabel)}`);
  if (jsonString(options.sourceMetadata.venous, TAG.studyInstanceUID) !== options.analysis.studyInstanceUID) {
    throw new RangeError(`sourceMetadata.venous: not from the analysed study ${options.analysis.studyInstanceUID}`);
  }
  checkSeriesDescription(options.seriesDescription);
}

/** The SEG's frames: by segment, then along the slice normal; positions ranked over all segments (1 = first). */
function segFrames(segments: SegmentDefinition[]): SegFrame[] {
  const slices = [...new Set(segments.flatMap((segment) => segment.frames.map((frame) => frame.sliceIndex)))].sort((a, b) => a - b);
  const rank = new Map(slices.map((k, n) => [k, n + 1]));
  return segments.flatMap((segment, s) =>
    [...segment.frames].sort((a, b) => a.sliceIndex - b.sliceIndex).map((frame) => ({ segmentNumber: s + 1, frame, positionIndex: rank.get(frame.sliceIndex)! })),
  );
}

/** Segment Sequence item (C.8.20.2, with the Algorithm Identification macro, Table 10-19). */
function segmentItem(segment: SegmentDefinition, segmentNumber: number): NaturalizedDataset {
  const { algorithm } = segment;
  return {
    SegmentNumber: segmentNumber,
    SegmentLabel: segment.label,
    ...(segment.description ? { SegmentDescription: segment.description } : {}),
    SegmentAlgorithmType: 'AUTOMATIC',
    SegmentAlgorithmName: algorithm.name,
    SegmentationAlgorithmIdentificationSequence: [
      {
        AlgorithmFamilyCodeSequence: [codeItem(algorithm.family ?? CODES.artificialIntelligence)],
        AlgorithmName: algorithm.name,
        AlgorithmVersion: algorithm.version,
        ...(algorithm.parameters && algorithm.parameters.length > 0 ? { AlgorithmParameters: algorithm.parameters.join('; ') } : {}),
      },
    ],
    SegmentedPropertyCategoryCodeSequence: [codeItem(segment.category)],
    SegmentedPropertyTypeCodeSequence: [codeItem(segment.type)],
    ...(segment.anatomicRegion ? { AnatomicRegionSequence: [codeItem(segment.anatomicRegion)] } : {}),
    ...(segment.displayColour ? { RecommendedDisplayCIELabValue: dicomLabFromRgb(segment.displayColour) } : {}),
    ...(segment.tracking ? { TrackingID: segment.tracking.id, TrackingUID: segment.tracking.uid } : {}),
  };
}

/** Per-frame functional groups (A.51.5.1): Derivation Image, Frame Content, Plane Position, Segmentation. */
function perFrameGroups(frame: SegFrame, source: SegmentationSource): NaturalizedDataset {
  const k = frame.frame.sliceIndex;
  return {
    DerivationImageSequence: [
      {
        SourceImageSequence: [
          {
            ReferencedSOPClassUID: source.sopClassUID,
            ReferencedSOPInstanceUID: source.sopInstanceUIDs[k],
            PurposeOfReferenceCodeSequence: [codeItem(CODES.sourceImageForProcessing)],
          },
        ],
        DerivationCodeSequence: [codeItem(CODES.segmentation)],
      },
    ],
    FrameContentSequence: [{ DimensionIndexValues: [frame.segmentNumber, frame.positionIndex] }],
    PlanePositionSequence: [{ ImagePositionPatient: indexToPatient(source.geometry, 0, 0, k).map(decimalString) }],
    SegmentIdentificationSequence: [{ ReferencedSegmentNumber: frame.segmentNumber }],
  };
}

/** Shared functional groups: Plane Orientation and Pixel Measures, the source's. */
function sharedGroups(options: SegmentationOptions): NaturalizedDataset {
  const g = options.source.geometry;
  const sourceThickness = jsonNumber(options.sourceMetadata.venous, TAG.sliceThickness);
  const thickness = sourceThickness !== undefined && sourceThickness > 0 ? sourceThickness : g.spacing[2];
  return {
    PlaneOrientationSequence: [{ ImageOrientationPatient: [...g.rowDirection, ...g.columnDirection].map(decimalString) }],
    PixelMeasuresSequence: [
      {
        // PixelSpacing is [between rows, between columns] (PS3.3 10.7.1.3).
        PixelSpacing: [g.spacing[1], g.spacing[0]].map(decimalString),
        SliceThickness: decimalString(thickness),
        SpacingBetweenSlices: decimalString(g.spacing[2]),
      },
    ],
  };
}

/** Multi-frame Dimension (C.7.6.17): segment first, then the position along the normal. */
function dimensions(dimensionOrganizationUID: string): NaturalizedDataset {
  const hex = (tag: string): number => Number.parseInt(tag, 16);
  return {
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUID }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUID,
        DimensionIndexPointer: hex(TAG.referencedSegmentNumber),
        FunctionalGroupPointer: hex(TAG.segmentIdentificationSequence),
        DimensionDescriptionLabel: 'Segment Number',
      },
      {
        DimensionOrganizationUID: dimensionOrganizationUID,
        DimensionIndexPointer: hex(TAG.imagePositionPatient),
        FunctionalGroupPointer: hex(TAG.planePositionSequence),
        DimensionDescriptionLabel: 'Image Position Patient',
      },
    ],
  };
}

export function buildSegmentation(options: SegmentationOptions): NaturalizedDataset {
  checkOptions(options);
  const { identity, now, source } = options;
  const frames = segFrames(options.segments);
  const [columns, rows] = source.geometry.dims;
  const pixels = packBinaryFrames(
    frames.map((f) => f.frame.mask),
    columns * rows,
  );
  const frameOfReference = validSourceString(options.sourceMetadata.venous, TAG.frameOfReferenceUID, 'UI');
  const positionReference = validSourceString(options.sourceMetadata.venous, TAG.positionReferenceIndicator, 'LO');
  const referencedSlices = [...new Set(frames.map((f) => f.frame.sliceIndex))].sort((a, b) => a - b);

  return {
    // SOP Common, Patient, Clinical Trial Subject, General Study, Patient Study, Clinical Trial
    // Study, General Series, General Equipment, Enhanced General Equipment
    ...commonModules(options, {
      sopClassUID: SOP_CLASS.segmentationStorage,
      sopInstanceUID: identity.segSopInstanceUID,
      codingSchemeDesignators: [IHE_SCHEME.designator],
      modality: 'SEG',
      seriesInstanceUID: identity.segSeriesInstanceUID,
      defaultSeriesNumber: 9003,
      sourceValueChanges: [...frameOfReference.changes, ...positionReference.changes],
    }),
    // Frame of Reference: the source's, so that the plane positions mean the same place
    ...(frameOfReference.value ? { FrameOfReferenceUID: frameOfReference.value, PositionReferenceIndicator: positionReference.value ?? '' } : {}),
    // General Image, Segmentation Image
    InstanceNumber: 1,
    ContentDate: dicomDate(now),
    ContentTime: dicomTime(now),
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: options.contentLabel,
    ContentDescription: options.contentDescription ?? '',
    ContentCreatorName: '',
    SegmentationType: 'BINARY',
    SegmentSequence: options.segments.map((segment, s) => segmentItem(segment, s + 1)),
    // Image Pixel (Segmentation Image's values)
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    // Multi-frame Functional Groups
    NumberOfFrames: frames.length,
    SharedFunctionalGroupsSequence: [sharedGroups(options)],
    PerFrameFunctionalGroupsSequence: frames.map((frame) => perFrameGroups(frame, source)),
    // Multi-frame Dimension
    ...dimensions(identity.segDimensionOrganizationUID),
    // Common Instance Reference: the source images the frames point at
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: source.seriesInstanceUID,
        ReferencedInstanceSequence: referencedSlices.map((k) => ({ ReferencedSOPClassUID: source.sopClassUID, ReferencedSOPInstanceUID: source.sopInstanceUIDs[k] })),
      },
    ],
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: 'OB' },
  };
}
