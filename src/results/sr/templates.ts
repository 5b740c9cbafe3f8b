/**
 * The PS3.16 templates the TSR report uses, one small pure function each, named by TID. Each
 * returns content items (naturalized datasets); rows follow the template tables in order.
 */
import { CODES, type Code } from '../codes';
import type { DeviceIdentity } from '../device';
import { code, container, image, num, scoordPolygon, text, uidref, type ContentItem, type SopReference } from './contentItems';

/** TID 1204 Language of Content Item and Descendants. */
export function tid1204LanguageOfContent(language: Code = CODES.englishUS): ContentItem {
  return code('HAS CONCEPT MOD', CODES.languageOfContent, language);
}

/** TID 1001 Observation Context -> TID 1002 Observer Context (device) -> TID 1004 Device Observer Identifying Attributes. */
export function tid1001ObservationContext(device: DeviceIdentity): ContentItem[] {
  return [
    code('HAS OBS CONTEXT', CODES.observerType, CODES.device),
    uidref('HAS OBS CONTEXT', CODES.deviceObserverUID, device.uid),
    text('HAS OBS CONTEXT', CODES.deviceObserverName, device.name),
    text('HAS OBS CONTEXT', CODES.deviceObserverManufacturer, device.manufacturer),
    text('HAS OBS CONTEXT', CODES.deviceObserverModelName, device.modelName),
  ];
}

export interface ImageLibraryGroup {
  modality: Code;
  targetRegion: Code;
  frameOfReferenceUID?: string;
  images: SopReference[];
}

/**
 * TID 1600 Image Library: one TID 1601 group per source series, with the TID 1602 descriptors the
 * images share (modality, target region, frame of reference) stated once on the group.
 */
export function tid1600ImageLibrary(groups: ImageLibraryGroup[]): ContentItem {
  return container(
    'CONTAINS',
    CODES.imageLibrary,
    groups.map((g) =>
      container('CONTAINS', CODES.imageLibraryGroup, [
        code('HAS ACQ CONTEXT', CODES.modality, g.modality),
        code('HAS ACQ CONTEXT', CODES.targetRegion, g.targetRegion),
        ...(g.frameOfReferenceUID ? [uidref('HAS ACQ CONTEXT', CODES.frameOfReferenceUID, g.frameOfReferenceUID)] : []),
        ...g.images.map((ref) => image('CONTAINS', undefined, ref)),
      ]),
    ),
  );
}

export interface AlgorithmIdentification {
  name: string;
  version: string;
  family?: Code;
  parameters?: string[];
}

/** TID 4019 Algorithm Identification, as concept modifiers of the group it qualifies. */
export function tid4019AlgorithmIdentification(algorithm: AlgorithmIdentification): ContentItem[] {
  return [
    text('HAS CONCEPT MOD', CODES.algorithmName, algorithm.name),
    text('HAS CONCEPT MOD', CODES.algorithmVersion, algorithm.version),
    code('HAS CONCEPT MOD', CODES.algorithmFamily, algorithm.family ?? CODES.artificialIntelligence),
    ...(algorithm.parameters ?? []).map((p) => text('HAS CONCEPT MOD', CODES.algorithmParameters, p)),
  ];
}

/** One region on one image, for TID 320 "Image or Spatial Coordinates". */
export interface ImageRegion {
  /** Closed outline, image coordinates (column, row), top left corner of the top left pixel = (0, 0). */
  outline: Array<[number, number]>;
  image: SopReference;
}

/**
 * TID 300 Measurement (NUM) with, per region, TID 320 "INFERRED FROM SCOORD (Source of
 * Measurement)" selected from its image.
 */
export function tid300Measurement(concept: Code, value: number, unit: Code, regions: ImageRegion[] = []): ContentItem {
  return num(
    'CONTAINS',
    concept,
    value,
    unit,
    regions.map((r) => scoordPolygon('INFERRED FROM', CODES.sourceOfMeasurement, r.outline, r.image)),
  );
}

/** A segment of a Segmentation instance and the series it was drawn on. */
export interface ReferencedSegment {
  segmentation: SopReference;
  segmentNumber: number;
  sourceSeriesInstanceUID: string;
}

/**
 * The segment rows of TID 1411 Volumetric ROI Measurements: "Referenced Segment" (IMAGE, with the
 * segment number) and "Source series for segmentation" (UIDREF).
 */
export function tid1411ReferencedSegment(ref: ReferencedSegment): ContentItem[] {
  return [
    image('CONTAINS', CODES.referencedSegment, ref.segmentation, ref.segmentNumber),
    uidref('CONTAINS', CODES.sourceSeriesForSegmentation, ref.sourceSeriesInstanceUID),
  ];
}

export interface MeasurementGroupOptions {
  trackingIdentifier: string;
  trackingUID: string;
  findingCategory: Code;
  finding: Code;
  findingSite: Code;
  algorithm: AlgorithmIdentification;
  /** The finding's segment in a SEG, when there is one (TID 1411's rows; TID 1501 is extensible). */
  referencedSegment?: ReferencedSegment;
  measurements: ContentItem[];
  /** Coded qualitative evaluations (concept, value). */
  qualitativeEvaluations: Array<{ concept: Code; value: Code }>;
  /** Free-text evaluations: what viewers that ignore CODE items (e.g. OHIF) still show. */
  textEvaluations: Array<{ concept: Code; value: string }>;
}

/** TID 1501 Measurement and Qualitative Evaluation Group. */
export function tid1501MeasurementGroup(o: MeasurementGroupOptions): ContentItem {
  return container(
    'CONTAINS',
    CODES.measurementGroup,
    [
      text('HAS OBS CONTEXT', CODES.trackingIdentifier, o.trackingIdentifier),
      uidref('HAS OBS CONTEXT', CODES.trackingUniqueIdentifier, o.trackingUID),
      code('CONTAINS', CODES.findingCategory, o.findingCategory),
      code('CONTAINS', CODES.finding, o.finding),
      code('HAS CONCEPT MOD', CODES.findingSite, o.findingSite),
      ...tid4019AlgorithmIdentification(o.algorithm),
      ...(o.referencedSegment ? tid1411ReferencedSegment(o.referencedSegment) : []),
      ...o.measurements,
      ...o.qualitativeEvaluations.map((q) => code('CONTAINS', q.concept, q.value)),
      ...o.textEvaluations.map((t) => text('CONTAINS', t.concept, t.value)),
    ],
    '1501',
  );
}

export interface MeasurementReportOptions {
  language?: Code;
  device: DeviceIdentity;
  procedureReported: Code;
  imageLibrary: ImageLibraryGroup[];
  measurementGroups: ContentItem[];
}

/** TID 1500 Measurement Report: the root container. */
export function tid1500MeasurementReport(o: MeasurementReportOptions): ContentItem {
  return container(
    null,
    CODES.imagingMeasurementReport,
    [
      tid1204LanguageOfContent(o.language),
      ...tid1001ObservationContext(o.device),
      code('HAS CONCEPT MOD', CODES.procedureReported, o.procedureReported),
      tid1600ImageLibrary(o.imageLibrary),
      container('CONTAINS', CODES.imagingMeasurements, o.measurementGroups),
    ],
    '1500',
  );
}
