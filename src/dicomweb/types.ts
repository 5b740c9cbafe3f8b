/**
 * What the rest of the node needs from a DICOMweb server (PS3.18): QIDO-RS search, WADO-RS
 * metadata and streamed retrieval, STOW-RS store. Implemented in client.ts over node:http(s).
 */
import type { DicomJson } from './dicomJson';

/** One part of a WADO-RS multipart response: one instance (application/dicom) or one frame. */
export interface RetrievedPart {
  contentType: string;
  /** From the part's Content-Type transfer-syntax parameter, when present. */
  transferSyntaxUID?: string;
  contentLocation?: string;
  body: Buffer;
}

export interface RetrieveOptions {
  /** Transfer syntax to ask for; default explicit VR little endian (1.2.840.10008.1.2.1). `*` = as stored. */
  transferSyntax?: string;
  /**
   * When the server cannot transcode to `transferSyntax` (HTTP 500 from Orthanc), fetch the
   * instances as stored (`*`) instead of failing. Default true.
   */
  fallbackToStored?: boolean;
  signal?: AbortSignal;
  /**
   * onPart keeps no reference to `part.body` (nor to a view of it) once it has returned or its
   * promise has settled: the client may then write a later part into the same memory. Default false.
   */
  reuseBodies?: boolean;
}

export interface RetrieveSummary {
  parts: number;
  bytes: number;
  /** The transfer syntax finally asked for (`*` after a fallback). */
  transferSyntaxRequested?: string;
  /**
   * Set when the server could not deliver the syntax first asked for (Orthanc answers HTTP 500
   * when it cannot transcode, e.g. JPEG 2000) and the series was fetched as stored instead.
   */
  fallbackFrom?: { transferSyntax: string; reason: string };
}

export interface StowReferenced {
  sopClassUID?: string;
  sopInstanceUID?: string;
  retrieveURL?: string;
  /** WarningReason (0008,1196), when the server coerced or warned about this instance. */
  warningReason?: number;
}

export interface StowFailed {
  sopClassUID?: string;
  sopInstanceUID?: string;
  /** FailureReason (0008,1197). */
  failureReason?: number;
}

export interface StowResult {
  httpStatus: number;
  referenced: StowReferenced[];
  failed: StowFailed[];
  /** WarningReason at the top level of the response, if any. */
  warningReason?: number;
}

export interface DicomWebClient {
  /** QIDO-RS /studies?... */
  searchStudies(query?: Record<string, string>, includeFields?: string[]): Promise<DicomJson[]>;
  /** QIDO-RS /studies/{study}/series */
  searchSeries(studyInstanceUID: string, includeFields?: string[]): Promise<DicomJson[]>;
  /** QIDO-RS /studies/{study}[/series/{series}]/instances */
  searchInstances(studyInstanceUID: string, seriesInstanceUID?: string, includeFields?: string[]): Promise<DicomJson[]>;
  /** WADO-RS /studies/{study}/series/{series}/metadata: one DICOM JSON object per instance. */
  retrieveSeriesMetadata(studyInstanceUID: string, seriesInstanceUID: string): Promise<DicomJson[]>;
  /**
   * WADO-RS /studies/{study}/series/{series}, multipart/related; type="application/dicom".
   * Streams: `onPart` is called with each instance as soon as it has arrived; the body is never
   * held whole. Backpressure: the next part waits for onPart's promise.
   */
  retrieveSeries(
    studyInstanceUID: string,
    seriesInstanceUID: string,
    onPart: (part: RetrievedPart) => void | Promise<void>,
    options?: RetrieveOptions,
  ): Promise<RetrieveSummary>;
  /** WADO-RS of one instance (application/dicom). */
  retrieveInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string, options?: RetrieveOptions): Promise<RetrievedPart>;
  /** STOW-RS: every object in one multipart/related request; the response is parsed, not just its status. */
  store(objects: Uint8Array[], studyInstanceUID?: string): Promise<StowResult>;
}
