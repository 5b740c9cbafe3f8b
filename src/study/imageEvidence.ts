/**
 * The I/O shell of image evidence: fetches a few instances from the middle of a series (WADO-RS,
 * one instance each), converts them to HU and measures the aorta against the portal vein
 * (vesselMeasurement.ts). Used only for the series phase selection could not settle from
 * metadata (`needsImageEvidence`).
 */
import { AnalysisRefusedError } from '../errors';
import type { DicomWebClient } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import { cross, dot, type Vec3 } from './geometry';
import { storedToHu } from './huConversion';
import { parseInstance } from './instanceParser';
import type { ImageEvidence } from './phaseSelection';
import { decodePixels } from './pixelDecoding';
import type { SelectionRules } from './selectionRules';
import type { SeriesSummary } from './seriesSummary';
import { classifyPhaseFromVessels, measureVessels, type HuSlice } from './vesselMeasurement';

/** SOP Instance UIDs of `count` slices spread over the middle third of the series (by position). */
export function middleSlices(summary: SeriesSummary, count: number): string[] {
  const placed = summary.instances.filter((i) => i.imagePositionPatient !== undefined && i.imageOrientationPatient?.length === 6);
  if (placed.length === 0) return [];
  const o = placed[0].imageOrientationPatient!;
  const normal = cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]);
  const sorted = [...placed].sort((a, b) => dot(a.imagePositionPatient!, normal) - dot(b.imagePositionPatient!, normal));
  const n = sorted.length;
  const picks = new Set<number>();
  for (let m = 0; m < count; m++) {
    const fraction = count === 1 ? 0.5 : 1 / 3 + (m / (count - 1)) / 3;
    picks.add(Math.min(n - 1, Math.round(fraction * (n - 1))));
  }
  return [...picks].sort((a, b) => a - b).map((k) => sorted[k].sopInstanceUID);
}

async function huSlice(client: DicomWebClient, summary: SeriesSummary, sopInstanceUID: string): Promise<HuSlice> {
  const part = await client.retrieveInstance(summary.studyInstanceUID, summary.seriesInstanceUID, sopInstanceUID);
  const p = parseInstance(part.body);
  const o = p.imageOrientationPatient;
  if (o === undefined || p.pixelSpacing === undefined) {
    throw new AnalysisRefusedError('missing-geometry', `instance ${sopInstanceUID} lacks ImageOrientationPatient or PixelSpacing`);
  }
  const data = new Float32Array(p.rows * p.columns);
  storedToHu(p, await decodePixels(p), data, 0);
  return {
    data,
    rows: p.rows,
    columns: p.columns,
    pixelSpacing: p.pixelSpacing,
    rowDirection: [o[0], o[1], o[2]] as Vec3,
    columnDirection: [o[3], o[4], o[5]] as Vec3,
    ...(p.imagePositionPatient ? { origin: p.imagePositionPatient } : {}),
  };
}

/**
 * Measures one series. Instances that cannot be decoded make the evidence inconclusive (with the
 * reason); PACS errors (TransientError, PermanentError) propagate.
 */
export async function gatherImageEvidence(
  client: DicomWebClient,
  summary: SeriesSummary,
  rules: SelectionRules,
  options: { logger?: Logger } = {},
): Promise<ImageEvidence> {
  const logger = options.logger ?? silentLogger;
  const uids = middleSlices(summary, rules.imageEvidence.slices);
  const base = { seriesInstanceUID: summary.seriesInstanceUID, slicesMeasured: 0 };
  if (uids.length === 0) return { ...base, phase: 'inconclusive', detail: 'no positioned instances to measure' };
  const slices: HuSlice[] = [];
  try {
    for (const uid of uids) slices.push(await huSlice(client, summary, uid));
  } catch (err) {
    if (err instanceof AnalysisRefusedError) return { ...base, phase: 'inconclusive', detail: `images cannot be read: ${err.code}: ${err.message}` };
    throw err;
  }
  const measurement = measureVessels(slices);
  const phase = classifyPhaseFromVessels(measurement, rules.imageEvidence);
  logger.info('image evidence measured', {
    seriesInstanceUID: summary.seriesInstanceUID,
    phase: phase.phase,
    aortaHu: phase.aortaHu,
    portalVeinHu: phase.portalVeinHu,
    slices: slices.length,
  });
  return { ...base, ...phase, slicesMeasured: slices.length };
}
