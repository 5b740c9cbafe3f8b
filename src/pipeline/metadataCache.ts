/**
 * A DicomWebClient that remembers the WADO-RS series metadata it has read (PS3.18 10.4.1.1.2), for
 * the length of one study's analysis. Discovery reads the metadata of every CT series to select
 * the phases; the result builders later need the metadata of one source instance per phase (the
 * Patient and Study modules they copy). Keeping what discovery read saves a second request per
 * series. Everything else passes through unchanged.
 */
import { TAG } from '../dicom/dictionary';
import type { DicomJson } from '../dicomweb/dicomJson';
import { jsonString } from '../dicomweb/dicomJson';
import type { DicomWebClient, RetrieveOptions, RetrieveSummary, RetrievedPart, StowResult } from '../dicomweb/types';

export class SeriesMetadataCache implements DicomWebClient {
  private readonly metadata = new Map<string, Promise<DicomJson[]>>();

  constructor(private readonly client: DicomWebClient) {}

  searchStudies(query?: Record<string, string>, includeFields?: string[]): Promise<DicomJson[]> {
    return this.client.searchStudies(query, includeFields);
  }

  searchSeries(studyInstanceUID: string, includeFields?: string[]): Promise<DicomJson[]> {
    return this.client.searchSeries(studyInstanceUID, includeFields);
  }

  searchInstances(studyInstanceUID: string, seriesInstanceUID?: string, includeFields?: string[]): Promise<DicomJson[]> {
    return this.client.searchInstances(studyInstanceUID, seriesInstanceUID, includeFields);
  }

  retrieveSeriesMetadata(studyInstanceUID: string, seriesInstanceUID: string): Promise<DicomJson[]> {
    const key = `${studyInstanceUID}/${seriesInstanceUID}`;
    let found = this.metadata.get(key);
    if (!found) {
      found = this.client.retrieveSeriesMetadata(studyInstanceUID, seriesInstanceUID);
      // A failed read is not remembered: the next caller asks again.
      found.catch(() => this.metadata.delete(key));
      this.metadata.set(key, found);
    }
    return found;
  }

  retrieveSeries(
    studyInstanceUID: string,
    seriesInstanceUID: string,
    onPart: (part: RetrievedPart) => void | Promise<void>,
    options?: RetrieveOptions,
  ): Promise<RetrieveSummary> {
    return this.client.retrieveSeries(studyInstanceUID, seriesInstanceUID, onPart, options);
  }

  retrieveInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string, options?: RetrieveOptions): Promise<RetrievedPart> {
    return this.client.retrieveInstance(studyInstanceUID, seriesInstanceUID, sopInstanceUID, options);
  }

  store(objects: Uint8Array[], studyInstanceUID?: string): Promise<StowResult> {
    return this.client.store(objects, studyInstanceUID);
  }

  /** The metadata of one instance of a series (read through the cache), or undefined. */
  async instanceMetadata(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string): Promise<DicomJson | undefined> {
    const all = await this.retrieveSeriesMetadata(studyInstanceUID, seriesInstanceUID);
    return all.find((m) => jsonString(m, TAG.sopInstanceUID) === sopInstanceUID) ?? all[0];
  }

  /** Forgets everything (the end of a study's analysis). */
  clear(): void {
    this.metadata.clear();
  }
}
