/**
 * Discovery, the thin I/O shell in front of phase selection: QIDO-RS for the study's series
 * (PS3.18 10.6, with the include fields selection needs), then WADO-RS series metadata (PS3.18
 * 10.4) for each CT series, turned into SeriesSummary values. Series of other modalities are
 * summarised from QIDO alone: they are listed as candidates but never fetched.
 *
 * QIDO is never filtered by description on the server: Orthanc's DICOMweb plugin does not decode
 * percent-encoded values (DESIGN.md), so selection happens here on what comes back.
 */
import { TAG } from '../dicom/dictionary';
import type { DicomJson } from '../dicomweb/dicomJson';
import { jsonString } from '../dicomweb/dicomJson';
import type { DicomWebClient } from '../dicomweb/types';
import { silentLogger, type Logger } from '../logging/logger';
import { QIDO_SERIES_INCLUDE_FIELDS, summarizeSeries, type SeriesSummary } from './seriesSummary';

export interface DiscoveryOptions {
  logger?: Logger;
}

/** Summaries of every series of a study, in SeriesNumber order ([] for an unknown study). */
export async function discoverStudy(client: DicomWebClient, studyInstanceUID: string, options: DiscoveryOptions = {}): Promise<SeriesSummary[]> {
  const logger = options.logger ?? silentLogger;
  const started = Date.now();
  const found = await client.searchSeries(studyInstanceUID, QIDO_SERIES_INCLUDE_FIELDS);
  // All series at once: the client's semaphore bounds the requests in flight (retrieveConcurrency),
  // so Orthanc reads one series' files while the node parses another's JSON. Each series' metadata
  // (several MB of JSON for a thin series) is summarised as soon as it arrives.
  const summarise = async (qido: DicomJson): Promise<SeriesSummary | undefined> => {
    const seriesInstanceUID = jsonString(qido, TAG.seriesInstanceUID);
    if (seriesInstanceUID === undefined) return undefined;
    let metadata: DicomJson[] | undefined;
    if (jsonString(qido, TAG.modality) === 'CT') metadata = await client.retrieveSeriesMetadata(studyInstanceUID, seriesInstanceUID);
    return summarizeSeries(qido, metadata);
  };
  const summaries = (await Promise.all(found.map(summarise))).filter((s): s is SeriesSummary => s !== undefined);
  summaries.sort((a, b) => (a.seriesNumber ?? 1e9) - (b.seriesNumber ?? 1e9) || a.seriesInstanceUID.localeCompare(b.seriesInstanceUID));
  logger.debug('study discovered', {
    studyInstanceUID,
    series: summaries.length,
    ctSeries: summaries.filter((s) => s.modality === 'CT').length,
    ms: Date.now() - started,
  });
  return summaries;
}
