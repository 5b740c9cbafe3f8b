/**
 * A value object per series, built purely from what QIDO-RS (PS3.18 10.6, series level) and
 * WADO-RS metadata (PS3.18 10.4, one DICOM JSON object per instance) return. Phase selection works
 * on these summaries only; they hold no pixels and no patient identity.
 *
 * Tags read (keyword, tag, module in PS3.3):
 *   Modality 0008,0060 (General Series); SeriesDescription 0008,103E; SeriesNumber 0020,0011;
 *   ProtocolName 0018,1030; BodyPartExamined 0018,0015; SeriesTime 0008,0031; StudyTime 0008,0030;
 *   SOPClassUID 0008,0016 (SOP Common); ImageType 0008,0008 (CT Image, C.8.2.1.1.1);
 *   ImageOrientationPatient 0020,0037 / ImagePositionPatient 0020,0032 / SliceThickness 0018,0050 /
 *   PixelSpacing 0028,0030 (Image Plane, C.7.6.2); SpacingBetweenSlices 0018,0088; Rows/Columns;
 *   FrameOfReferenceUID 0020,0052; ContrastBolusAgent 0018,0010, ContrastBolusAgentSequence 0018,0012,
 *   ContrastBolusRoute 0018,1040, ContrastBolusStartTime 0018,1042 (Contrast/Bolus, C.7.6.4);
 *   AcquisitionTime 0008,0032, AcquisitionDateTime 0008,002A; GantryDetectorTilt 0018,1120;
 *   ConvolutionKernel 0018,1210; NumberOfFrames 0028,0008; TransferSyntaxUID 0002,0010 (when a
 *   server includes it); Shared/PerFrameFunctionalGroupsSequence 5200,9229/9230.
 */
import { TAG } from '../dicom/dictionary';
import { jsonNumber, jsonNumbers, jsonSequence, jsonString, jsonStrings, type DicomJson } from '../dicomweb/dicomJson';
import type { Vec3 } from './geometry';
import type { SliceDescriptor } from './volumePlan';

/** Series-level fields asked of QIDO-RS (`includefield`), beyond the defaults of PS3.18 Table 10.6.1-5. */
export const QIDO_SERIES_INCLUDE_FIELDS: string[] = [
  TAG.seriesDescription,
  TAG.seriesNumber,
  TAG.modality,
  TAG.numberOfSeriesRelatedInstances,
  TAG.bodyPartExamined,
  TAG.protocolName,
  TAG.seriesTime,
  TAG.imageType,
  TAG.sliceThickness,
  TAG.imageOrientationPatient,
  TAG.contrastBolusAgent,
  TAG.contrastBolusStartTime,
];

/** One instance of a series, from its metadata: its geometry plus the timing selection uses. */
export interface InstanceSummary extends SliceDescriptor {
  sopClassUID?: string;
  imageType: string[];
  /** Seconds after midnight. */
  acquisitionTimeSeconds?: number;
}

export interface ContrastSummary {
  /** ContrastBolusAgent text (first non-empty of the series). */
  agent?: string;
  /** Code meanings (or values) of ContrastBolusAgentSequence items. */
  agentCodes: string[];
  route?: string;
  /** ContrastBolusStartTime as written (TM). */
  startTime?: string;
  startSeconds?: number;
}

export interface SeriesSummary {
  studyInstanceUID: string;
  seriesInstanceUID: string;
  modality?: string;
  seriesNumber?: number;
  /** '' when absent. */
  seriesDescription: string;
  protocolName?: string;
  bodyPartExamined?: string;
  manufacturer?: string;
  sopClassUIDs: string[];
  /** Instances in the metadata, else NumberOfSeriesRelatedInstances from QIDO. */
  instanceCount: number;
  /** Distinct ImageType value lists, upper case. */
  imageTypes: string[][];
  /** Distinct orientations (six cosines, rounded to 4 decimals). */
  orientations: number[][];
  sliceThicknesses: number[];
  spacingBetweenSlices?: number;
  pixelSpacings: [number, number][];
  imageSizes: { rows: number; columns: number }[];
  frameOfReferenceUIDs: string[];
  contrast: ContrastSummary;
  /** Earliest AcquisitionTime of the series, in seconds after midnight: when the acquisition began. */
  acquisitionSeconds?: number;
  seriesTime?: string;
  seriesSeconds?: number;
  studyTime?: string;
  gantryDetectorTilt?: number;
  /** Largest NumberOfFrames of any instance (1 for single-frame series). */
  numberOfFrames: number;
  /** True when any instance uses the multi-frame functional groups (Enhanced CT). */
  hasFunctionalGroups: boolean;
  transferSyntaxUIDs: string[];
  convolutionKernels: string[];
  /** Per-instance geometry, in metadata order; empty when only QIDO was read. */
  instances: InstanceSummary[];
  /** Whether WADO-RS metadata was read (otherwise only QIDO's series-level fields). */
  hasMetadata: boolean;
}

/**
 * Seconds after midnight of a DICOM TM value ("HHMMSS.FFFFFF", shorter forms, or the old
 * "HH:MM:SS" form, PS3.5 6.2), or undefined when absent or malformed.
 */
export function parseDicomTime(tm: string | undefined): number | undefined {
  if (tm === undefined) return undefined;
  const s = tm.trim().replace(/:/g, '');
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(s);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = m[2] === undefined ? 0 : Number(m[2]);
  const sec = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || min > 59 || sec > 60) return undefined;
  const frac = m[4] === undefined ? 0 : Number(`0.${m[4]}`);
  return h * 3600 + min * 60 + sec + frac;
}

/** The TM part of a DT value (YYYYMMDDHHMMSS.FFFFFF&ZZXX). */
function timeOfDateTime(dt: string | undefined): string | undefined {
  if (dt === undefined || dt.length < 10) return undefined;
  return dt.slice(8).replace(/[+-]\d{4}$/, '');
}

function distinctBy<T>(values: T[], key: (v: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const v of values) {
    const k = key(v);
    if (!seen.has(k)) seen.set(k, v);
  }
  return [...seen.values()];
}

function firstDefined<T>(values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t === undefined || t === '' ? undefined : t;
}

function instanceSummary(ds: DicomJson): InstanceSummary | undefined {
  const sopInstanceUID = jsonString(ds, TAG.sopInstanceUID);
  if (sopInstanceUID === undefined) return undefined;
  const inst: InstanceSummary = { sopInstanceUID, imageType: jsonStrings(ds, TAG.imageType).map((v) => v.trim().toUpperCase()) };
  const set = <K extends keyof InstanceSummary>(key: K, value: InstanceSummary[K] | undefined): void => {
    if (value !== undefined) inst[key] = value;
  };
  set('sopClassUID', jsonString(ds, TAG.sopClassUID));
  set('studyInstanceUID', jsonString(ds, TAG.studyInstanceUID));
  set('seriesInstanceUID', jsonString(ds, TAG.seriesInstanceUID));
  set('frameOfReferenceUID', jsonString(ds, TAG.frameOfReferenceUID));
  const ipp = jsonNumbers(ds, TAG.imagePositionPatient);
  if (ipp.length === 3) inst.imagePositionPatient = [ipp[0], ipp[1], ipp[2]] as Vec3;
  const iop = jsonNumbers(ds, TAG.imageOrientationPatient);
  if (iop.length === 6) inst.imageOrientationPatient = iop;
  const ps = jsonNumbers(ds, TAG.pixelSpacing);
  if (ps.length === 2 && ps[0] > 0 && ps[1] > 0) inst.pixelSpacing = [ps[0], ps[1]];
  set('rows', jsonNumber(ds, TAG.rows));
  set('columns', jsonNumber(ds, TAG.columns));
  set('sliceThickness', jsonNumber(ds, TAG.sliceThickness));
  set('numberOfFrames', jsonNumber(ds, TAG.numberOfFrames));
  set('instanceNumber', jsonNumber(ds, TAG.instanceNumber));
  if (ds[TAG.sharedFunctionalGroups] !== undefined || ds[TAG.perFrameFunctionalGroups] !== undefined) inst.enhancedMultiframe = true;
  set('acquisitionTimeSeconds', parseDicomTime(jsonString(ds, TAG.acquisitionTime) ?? timeOfDateTime(jsonString(ds, TAG.acquisitionDateTime))));
  return inst;
}

/**
 * Builds the summary of one series from its QIDO-RS series result and, when read, its WADO-RS
 * metadata. Metadata values win over QIDO's (QIDO reports one instance's values at series level).
 */
export function summarizeSeries(qido: DicomJson, metadata?: DicomJson[]): SeriesSummary {
  const all = metadata ?? [];
  const sources = [...all, qido];
  const str = (tag: string): string | undefined => firstDefined(sources.map((ds) => nonEmpty(jsonString(ds, tag))));
  const num = (tag: string): number | undefined => firstDefined(sources.map((ds) => jsonNumber(ds, tag)));

  const instances = all.map(instanceSummary).filter((i): i is InstanceSummary => i !== undefined);
  const seriesInstanceUID = str(TAG.seriesInstanceUID) ?? '';
  const studyInstanceUID = str(TAG.studyInstanceUID) ?? '';

  const imageTypeLists = (all.length > 0 ? all : [qido]).map((ds) => jsonStrings(ds, TAG.imageType).map((v) => v.trim().toUpperCase())).filter((l) => l.length > 0);
  const orientationLists = (all.length > 0 ? all : [qido]).map((ds) => jsonNumbers(ds, TAG.imageOrientationPatient)).filter((o) => o.length === 6);
  const thicknesses = (all.length > 0 ? all : [qido]).map((ds) => jsonNumber(ds, TAG.sliceThickness)).filter((t): t is number => t !== undefined && t > 0);

  const agentCodes = sources.flatMap((ds) =>
    jsonSequence(ds, TAG.contrastBolusAgentSequence).map((item) => jsonString(item, '00080104') ?? jsonString(item, '00080100') ?? 'coded agent'),
  );
  const startTime = str(TAG.contrastBolusStartTime);
  const contrast: ContrastSummary = { agentCodes: [...new Set(agentCodes)] };
  const agent = str(TAG.contrastBolusAgent);
  if (agent !== undefined) contrast.agent = agent;
  const route = str(TAG.contrastBolusRoute);
  if (route !== undefined) contrast.route = route;
  if (startTime !== undefined) {
    contrast.startTime = startTime;
    const s = parseDicomTime(startTime);
    if (s !== undefined) contrast.startSeconds = s;
  }

  const acquisitionTimes = instances.map((i) => i.acquisitionTimeSeconds).filter((t): t is number => t !== undefined);
  if (acquisitionTimes.length === 0) {
    const qidoAcq = parseDicomTime(jsonString(qido, TAG.acquisitionTime));
    if (qidoAcq !== undefined) acquisitionTimes.push(qidoAcq);
  }

  const summary: SeriesSummary = {
    studyInstanceUID,
    seriesInstanceUID,
    seriesDescription: str(TAG.seriesDescription) ?? '',
    sopClassUIDs: [...new Set(sources.map((ds) => jsonString(ds, TAG.sopClassUID)).filter((u): u is string => u !== undefined))],
    instanceCount: metadata !== undefined ? instances.length : (jsonNumber(qido, TAG.numberOfSeriesRelatedInstances) ?? 0),
    imageTypes: distinctBy(imageTypeLists, (l) => l.join('\\')),
    orientations: distinctBy(
      orientationLists.map((o) => o.map((v) => Math.round(v * 1e4) / 1e4)),
      (o) => o.join('\\'),
    ),
    sliceThicknesses: [...new Set(thicknesses)].sort((a, b) => a - b),
    pixelSpacings: distinctBy(
      instances.map((i) => i.pixelSpacing).filter((p): p is [number, number] => p !== undefined),
      (p) => p.join('\\'),
    ),
    imageSizes: distinctBy(
      instances.filter((i) => i.rows !== undefined && i.columns !== undefined).map((i) => ({ rows: i.rows!, columns: i.columns! })),
      (s) => `${s.rows}x${s.columns}`,
    ),
    frameOfReferenceUIDs: [...new Set(instances.map((i) => i.frameOfReferenceUID).filter((u): u is string => u !== undefined))],
    contrast,
    numberOfFrames: Math.max(1, ...instances.map((i) => i.numberOfFrames ?? 1)),
    hasFunctionalGroups: instances.some((i) => i.enhancedMultiframe === true),
    transferSyntaxUIDs: [...new Set(all.map((ds) => jsonString(ds, TAG.transferSyntaxUID)).filter((u): u is string => u !== undefined))],
    convolutionKernels: [...new Set(all.flatMap((ds) => jsonStrings(ds, TAG.convolutionKernel)).filter((k) => k.trim() !== ''))],
    instances,
    hasMetadata: metadata !== undefined,
  };
  const optional: Partial<SeriesSummary> = {
    modality: str(TAG.modality),
    seriesNumber: num(TAG.seriesNumber),
    protocolName: str(TAG.protocolName),
    bodyPartExamined: str(TAG.bodyPartExamined)?.toUpperCase(),
    manufacturer: str(TAG.manufacturer),
    spacingBetweenSlices: num(TAG.spacingBetweenSlices),
    acquisitionSeconds: acquisitionTimes.length > 0 ? Math.min(...acquisitionTimes) : undefined,
    seriesTime: str(TAG.seriesTime),
    seriesSeconds: parseDicomTime(str(TAG.seriesTime)),
    studyTime: str(TAG.studyTime),
    gantryDetectorTilt: num(TAG.gantryDetectorTilt),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (summary as unknown as Record<string, unknown>)[k] = v;
  return summary;
}
