/**
 * Builds the QIDO-RS and WADO-RS metadata (DICOM JSON, PS3.18 F.2) of a made-up study from short
 * series specs, for the selection tests. No pixels.
 */
import type { DicomJson } from '../../../src/dicomweb/dicomJson';
import { summarizeSeries, type SeriesSummary } from '../../../src/study/seriesSummary';

export interface SeriesSpec {
  /** How the test names the series; defaults to the description. */
  id?: string;
  description?: string;
  seriesNumber?: number;
  slices?: number;
  thickness?: number;
  /** First AcquisitionTime, in seconds after 10:00:00. */
  acq?: number;
  /** SeriesTime, in seconds after 10:00:00 (used when there is no AcquisitionTime). */
  seriesTime?: number;
  /** ContrastBolusStartTime, in seconds after 10:00:00. */
  bolusStart?: number;
  agent?: string;
  modality?: string;
  sopClass?: string;
  imageType?: string[];
  orientation?: number[];
  /** FrameOfReferenceUID; two values alternate between instances. */
  frame?: string | [string, string];
  bodyPart?: string;
  /** Index of an instance left out (a missing slice). */
  dropSlice?: number;
  /** Every other instance coronal. */
  mixedOrientation?: boolean;
}

const BASE = 10 * 3600;

function tm(secondsAfterTen: number): string {
  const t = BASE + secondsAfterTen;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  const two = (n: number): string => String(Math.floor(n)).padStart(2, '0');
  const frac = Math.round((s - Math.floor(s)) * 100);
  return `${two(h)}${two(m)}${two(s)}.${String(frac).padStart(2, '0')}`;
}

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const STUDY_UID = '1.2.826.0.1.3680043.8.498.100';

export function seriesUid(n: number): string {
  return `1.2.826.0.1.3680043.8.498.100.${n + 1}`;
}

function el(vr: string, ...values: unknown[]): { vr: string; Value: unknown[] } {
  return { vr, Value: values };
}

/** QIDO series result and metadata of one series. */
export function seriesJson(spec: SeriesSpec, n: number): { qido: DicomJson; metadata: DicomJson[] | undefined } {
  const uid = seriesUid(n);
  const modality = spec.modality ?? 'CT';
  const common: DicomJson = {
    '0020000D': el('UI', STUDY_UID),
    '0020000E': el('UI', uid),
    '00080060': el('CS', modality),
    '00200011': el('IS', spec.seriesNumber ?? n + 1),
  };
  if (spec.description !== undefined) common['0008103E'] = el('LO', spec.description);
  if (spec.bodyPart !== undefined) common['00180015'] = el('CS', spec.bodyPart);
  if (spec.agent !== undefined) common['00180010'] = el('LO', spec.agent);
  if (spec.bolusStart !== undefined) common['00181042'] = el('TM', tm(spec.bolusStart));
  if (spec.seriesTime !== undefined) common['00080031'] = el('TM', tm(spec.seriesTime));
  const slices = spec.slices ?? 30;
  const qido: DicomJson = { ...common, '00201209': el('IS', slices) };
  if (modality !== 'CT') return { qido, metadata: undefined };

  const thickness = spec.thickness ?? 1;
  const orientation = spec.orientation ?? [1, 0, 0, 0, 1, 0];
  const metadata: DicomJson[] = [];
  for (let k = 0; k < slices; k++) {
    if (k === spec.dropSlice) continue;
    const frame = Array.isArray(spec.frame) ? spec.frame[k % 2] : (spec.frame ?? '1.2.826.0.1.3680043.8.498.9');
    const o = spec.mixedOrientation && k % 2 === 1 ? [1, 0, 0, 0, 0, -1] : orientation;
    // Positions along this orientation's normal.
    const normal = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
    const ds: DicomJson = {
      ...common,
      '00080016': el('UI', spec.sopClass ?? CT),
      '00080018': el('UI', `${uid}.${k + 1}`),
      '00080008': el('CS', ...(spec.imageType ?? ['ORIGINAL', 'PRIMARY', 'AXIAL'])),
      '00200013': el('IS', k + 1),
      '00200032': el('DS', -150 + normal[0] * k * thickness, -150 + normal[1] * k * thickness, 100 + normal[2] * k * thickness),
      '00200037': el('DS', ...o),
      '00200052': el('UI', frame),
      '00180050': el('DS', thickness),
      '00280010': el('US', 96),
      '00280011': el('US', 96),
      '00280030': el('DS', 0.8, 0.8),
    };
    if (spec.acq !== undefined) ds['00080032'] = el('TM', tm(spec.acq + k * 0.05));
    metadata.push(ds);
  }
  return { qido, metadata };
}

/** Summaries of a made-up study, in spec order. */
export function study(specs: SeriesSpec[]): SeriesSummary[] {
  return specs.map((spec, n) => {
    const { qido, metadata } = seriesJson(spec, n);
    return summarizeSeries(qido, metadata);
  });
}
