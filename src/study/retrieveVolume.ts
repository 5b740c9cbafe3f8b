/**
 * The I/O shell of volume assembly: plans the volume from the series' WADO-RS metadata, then
 * streams the series (WADO-RS, multipart) into it, each part parsed, checked against the plan and
 * converted to HU as it arrives. The multipart body is never held whole: peak memory is the HU
 * volume plus the parts in flight.
 *
 * Asks for explicit VR little endian; the client falls back to `transfer-syntax=*` when Orthanc
 * cannot transcode (JPEG 2000); pixelDecoding.ts decodes J2K, and instanceParser.ts refuses other syntaxes.
 */
import { TRANSFER_SYNTAX } from '../dicom/dictionary';
import type { DicomWebClient, RetrieveSummary } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import { summarizeSeries, type SeriesSummary } from './seriesSummary';
import type { HuVolume } from './volume';
import { VolumeAssembly, type AssemblyOptions } from './volumeAssembly';
import { planVolumeOrThrow, type PlanTolerances } from './volumePlan';

export interface RetrieveVolumeOptions extends AssemblyOptions {
  tolerances?: PlanTolerances;
  signal?: AbortSignal;
  logger?: Logger;
}

export interface RetrievedVolume {
  volume: HuVolume;
  retrieval: RetrieveSummary;
  ms: number;
}

/** Retrieves a series already summarised (by discovery) into a HU volume. */
export async function retrieveVolume(client: DicomWebClient, summary: SeriesSummary, options: RetrieveVolumeOptions = {}): Promise<RetrievedVolume> {
  const logger = options.logger ?? silentLogger;
  const started = Date.now();
  const plan = planVolumeOrThrow(summary.instances, options.tolerances);
  const assembly = new VolumeAssembly(plan, { studyInstanceUID: summary.studyInstanceUID, seriesInstanceUID: summary.seriesInstanceUID }, options);
  const retrieval = await client.retrieveSeries(summary.studyInstanceUID, summary.seriesInstanceUID, (part) => assembly.addInstance(part.body), {
    transferSyntax: TRANSFER_SYNTAX.explicitVrLittleEndian,
    // addInstance has written the slice's HU (and dropped the part) when its promise settles.
    reuseBodies: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const volume = assembly.finish();
  const ms = Date.now() - started;
  logger.info('series retrieved', {
    seriesInstanceUID: summary.seriesInstanceUID,
    slices: plan.geometry.dims[2],
    bytes: retrieval.bytes,
    ms,
    ...(retrieval.fallbackFrom ? { fallbackFrom: retrieval.fallbackFrom.transferSyntax } : {}),
  });
  return { volume, retrieval, ms };
}

/** Retrieves a series by UID: reads its metadata first (for callers without a discovery summary). */
export async function retrieveSeriesVolume(
  client: DicomWebClient,
  studyInstanceUID: string,
  seriesInstanceUID: string,
  options: RetrieveVolumeOptions = {},
): Promise<RetrievedVolume> {
  const metadata = await client.retrieveSeriesMetadata(studyInstanceUID, seriesInstanceUID);
  const qido = { '0020000D': { vr: 'UI', Value: [studyInstanceUID] }, '0020000E': { vr: 'UI', Value: [seriesInstanceUID] } };
  return retrieveVolume(client, summarizeSeries(qido, metadata), options);
}
