/**
 * DICOMweb client over node:http(s) (PS3.18): QIDO-RS search, WADO-RS metadata and streamed
 * retrieval, STOW-RS store. Implements `DicomWebClient` (types.ts).
 *
 * Routes used (PS3.18 10.4 Retrieve, 10.5 Store, 10.6 Search):
 *   GET  {root}/studies?…                                   QIDO-RS, application/dicom+json
 *   GET  {root}/studies/{study}/series?…                    QIDO-RS
 *   GET  {root}/studies/{study}[/series/{series}]/instances QIDO-RS
 *   GET  {root}/studies/{study}/series/{series}/metadata    WADO-RS metadata
 *   GET  {root}/studies/{study}/series/{series}             WADO-RS, multipart/related; type="application/dicom"
 *   GET  {root}/studies/{s}/series/{se}/instances/{i}       WADO-RS, multipart (Orthanc 1.7 has no single-part form)
 *   POST {root}/studies[/{study}]                           STOW-RS
 *
 * Retrieval asks for explicit VR little endian. Orthanc 1.10 cannot transcode JPEG 2000 and
 * answers HTTP 500 then; the series is fetched again as stored (`transfer-syntax=*`) and the
 * summary says so (`fallbackFrom`), so that the J2K decoder downstream gets its chance.
 *
 * Every request holds one of the client's `retrieveConcurrency` slots while it runs, a streamed
 * retrieval until its last part has been handled: `onPart` must not call the same client, or
 * with one slot it would wait for itself.
 */
import { TRANSFER_SYNTAX } from '../dicom/dictionary';
import { readFileSync } from 'node:fs';
import { ConfigError, PermanentError } from '../errors';
import { silentLogger, type Logger } from '../logging/logger';
import { parseMediaType, formatParam } from './contentType';
import type { DicomJson } from './dicomJson';
import { HttpTransport, type HttpTransportOptions, type ResponseStream } from './httpTransport';
import { MultipartParser, boundaryFromContentType, type MultipartPart } from './multipart';
import { readPart10Meta } from './part10';
import { assertUid, instancesPath, qidoQueryString, seriesPath, studiesPath } from './qido';
import { parseStowResponse, stowProblem, stowRequestBody } from './stow';
import type { DicomWebClient, RetrieveOptions, RetrieveSummary, RetrievedPart, StowResult } from './types';

/** PS3.18 8.7.3.5.2: `*` asks for the instances as stored. */
export const AS_STORED = '*';

const DICOM_JSON = 'application/dicom+json';

/** The connection settings of `OrthancConfig` (src/config/schema.ts) that the client reads. */
export interface DicomWebClientOptions {
  /** DICOMweb root; defaults to `${url}/dicom-web`. */
  dicomWebUrl?: string;
  url?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
  /** PEM file with extra CA certificates. */
  caFile?: string;
  requestTimeoutMs?: number;
  /** Requests in flight at once for this client (a shared semaphore). */
  retrieveConcurrency?: number;
  requestAttempts?: number;
  requestBackoffMs?: number;
}

export interface DicomWebClientExtras {
  logger?: Logger;
  /** Injectable backoff sleep, for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Reader of streamed WADO-RS over http:// (HttpTransportOptions.streamReader); default `socket`. */
  streamReader?: 'socket' | 'node-http';
}

/** The client plus what its owner needs to manage it. */
export interface DicomWebClientHandle extends DicomWebClient {
  readonly baseUrl: string;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/** Transport settings from the Orthanc connection config; reads the CA file once. */
export function transportOptionsFromConfig(options: DicomWebClientOptions, maxConcurrent: number, extras: DicomWebClientExtras = {}): HttpTransportOptions {
  let ca: string | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`orthanc.caFile: cannot read ${options.caFile}: ${(err as Error).message}`);
    }
  }
  return {
    username: options.username,
    password: options.password,
    bearerToken: options.bearerToken,
    ca,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    requestAttempts: options.requestAttempts ?? 3,
    requestBackoffMs: options.requestBackoffMs ?? 250,
    maxConcurrent,
    logger: extras.logger,
    sleep: extras.sleep,
    streamReader: extras.streamReader,
  };
}

export function createDicomWebClient(options: DicomWebClientOptions, extras: DicomWebClientExtras = {}): DicomWebClientHandle {
  const root = options.dicomWebUrl ?? (options.url ? options.url.replace(/\/+$/, '') + '/dicom-web' : undefined);
  if (!root) throw new ConfigError('DICOMweb client: neither dicomWebUrl nor url is set');
  const transport = new HttpTransport(transportOptionsFromConfig(options, options.retrieveConcurrency ?? 2, extras));
  return new HttpDicomWebClient(root.replace(/\/+$/, ''), transport, extras.logger ?? silentLogger);
}

function multipartAccept(transferSyntax: string): string {
  return `multipart/related; type="application/dicom"; ${formatParam('transfer-syntax', transferSyntax)}`;
}

class HttpDicomWebClient implements DicomWebClientHandle {
  constructor(
    readonly baseUrl: string,
    private readonly transport: HttpTransport,
    private readonly logger: Logger,
  ) {}

  close(): void {
    this.transport.close();
  }

  async searchStudies(query: Record<string, string> = {}, includeFields: string[] = []): Promise<DicomJson[]> {
    return await this.getJsonArray(studiesPath() + qidoQueryString(query, includeFields));
  }

  async searchSeries(studyInstanceUID: string, includeFields: string[] = []): Promise<DicomJson[]> {
    return await this.getJsonArray(seriesPath(studyInstanceUID) + qidoQueryString({}, includeFields));
  }

  async searchInstances(studyInstanceUID: string, seriesInstanceUID?: string, includeFields: string[] = []): Promise<DicomJson[]> {
    return await this.getJsonArray(instancesPath(studyInstanceUID, seriesInstanceUID) + qidoQueryString({}, includeFields));
  }

  async retrieveSeriesMetadata(studyInstanceUID: string, seriesInstanceUID: string): Promise<DicomJson[]> {
    return await this.getJsonArray(this.seriesRoute(studyInstanceUID, seriesInstanceUID) + '/metadata');
  }

  async retrieveSeries(
    studyInstanceUID: string,
    seriesInstanceUID: string,
    onPart: (part: RetrievedPart) => void | Promise<void>,
    options: RetrieveOptions = {},
  ): Promise<RetrieveSummary> {
    return this.retrieveWithFallback(this.seriesRoute(studyInstanceUID, seriesInstanceUID), onPart, options);
  }

  async retrieveInstance(studyInstanceUID: string, seriesInstanceUID: string, sopInstanceUID: string, options: RetrieveOptions = {}): Promise<RetrievedPart> {
    const route = `${this.seriesRoute(studyInstanceUID, seriesInstanceUID)}/instances/${assertUid(sopInstanceUID, 'SOPInstanceUID')}`;
    const parts: RetrievedPart[] = [];
    // The part is returned, so its memory is never reused.
    await this.retrieveWithFallback(route, (part) => void parts.push(part), { ...options, reuseBodies: false });
    if (parts.length !== 1) throw new PermanentError(`WADO-RS ${route}: expected one instance, got ${parts.length}`);
    return parts[0];
  }

  async store(objects: Uint8Array[], studyInstanceUID?: string): Promise<StowResult> {
    if (objects.length === 0) throw new PermanentError('STOW-RS: nothing to store');
    const route = studyInstanceUID === undefined ? '/studies' : `/studies/${assertUid(studyInstanceUID, 'StudyInstanceUID')}`;
    const sent = objects.map((o) => readPart10Meta(o)?.sopInstanceUID);
    const body = stowRequestBody(objects);
    const response = await this.transport.request({
      method: 'POST',
      url: this.baseUrl + route,
      headers: { 'Content-Type': body.contentType, Accept: DICOM_JSON },
      body: body.chunks,
      // PS3.18 10.5.3: 200, 202 (warnings or some failures), 400 and 409 carry the response
      // dataset; read it rather than guess from the status. 401/403 and 5xx are thrown.
      accept: (status) => status < 500 && status !== 401 && status !== 403 && status !== 404,
    });
    let dataset: DicomJson | undefined;
    if (response.body.length > 0) {
      try {
        dataset = JSON.parse(response.body.toString('utf8')) as DicomJson;
      } catch {
        throw new PermanentError(`STOW-RS ${route}: HTTP ${response.status} with a body that is not DICOM JSON`, { httpStatus: response.status });
      }
    }
    const result = parseStowResponse(response.status, dataset);
    for (const r of result.referenced) {
      if (r.warningReason !== undefined) this.logger.warn('STOW-RS stored with a warning', { sopInstanceUID: r.sopInstanceUID, warningReason: r.warningReason });
    }
    const problem = stowProblem(result, sent);
    if (problem !== undefined) {
      throw new PermanentError(`STOW-RS ${route} (HTTP ${response.status}): ${problem}`, { httpStatus: response.status, stow: result });
    }
    return result;
  }

  private seriesRoute(studyInstanceUID: string, seriesInstanceUID: string): string {
    return `/studies/${assertUid(studyInstanceUID, 'StudyInstanceUID')}/series/${assertUid(seriesInstanceUID, 'SeriesInstanceUID')}`;
  }

  private async getJsonArray(route: string): Promise<DicomJson[]> {
    const response = await this.transport.request({ method: 'GET', url: this.baseUrl + route, headers: { Accept: DICOM_JSON } });
    // PS3.18 10.6.3: 204 No Content means no match.
    if (response.status === 204 || response.body.length === 0) return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      throw new PermanentError(`GET ${route}: the answer is not JSON (Content-Type ${String(response.headers['content-type'])})`);
    }
    if (!Array.isArray(parsed)) throw new PermanentError(`GET ${route}: expected a JSON array of datasets`);
    return parsed as DicomJson[];
  }

  private async retrieveWithFallback(route: string, onPart: (part: RetrievedPart) => void | Promise<void>, options: RetrieveOptions): Promise<RetrieveSummary> {
    const asked = options.transferSyntax ?? TRANSFER_SYNTAX.explicitVrLittleEndian;
    const canFallBack = asked !== AS_STORED && options.fallbackToStored !== false;
    const first = await this.retrieveMultipart(route, asked, onPart, options, canFallBack);
    if (first.kind === 'done') return first.summary;
    this.logger.warn('WADO-RS: the server cannot deliver the asked transfer syntax; fetching as stored', {
      route,
      transferSyntax: asked,
      reason: first.reason,
    });
    const second = await this.retrieveMultipart(route, AS_STORED, onPart, options, false);
    if (second.kind !== 'done') throw new PermanentError(`WADO-RS ${route}: ${second.reason}`);
    return { ...second.summary, fallbackFrom: { transferSyntax: asked, reason: first.reason } };
  }

  /**
   * One WADO-RS multipart retrieval, streamed through the incremental parser. With
   * `fallbackOn500`, an HTTP 500 is returned as `{ kind: 'transcode-failed' }` at once
   * (no retries): Orthanc's answer when it cannot transcode.
   */
  private async retrieveMultipart(
    route: string,
    transferSyntax: string,
    onPart: (part: RetrievedPart) => void | Promise<void>,
    options: Pick<RetrieveOptions, 'signal' | 'reuseBodies'>,
    fallbackOn500: boolean,
  ): Promise<{ kind: 'done'; summary: RetrieveSummary } | { kind: 'transcode-failed'; reason: string }> {
    return this.transport.stream(
      {
        method: 'GET',
        url: this.baseUrl + route,
        headers: { Accept: multipartAccept(transferSyntax) },
        signal: options.signal,
        accept: (status) => (status >= 200 && status < 300) || (fallbackOn500 && status === 500),
      },
      async (response: ResponseStream) => {
        if (response.status === 500) {
          const chunks: Buffer[] = [];
          await response.forEachChunk((chunk) => void chunks.push(chunk));
          const text = Buffer.concat(chunks).toString('utf8');
          let detail = 'HTTP 500';
          try {
            const json = JSON.parse(text) as { Message?: string; Details?: string };
            detail = `HTTP 500: ${json.Details ?? json.Message ?? 'no details'}`;
          } catch {
            // not JSON; keep the status alone
          }
          return { kind: 'transcode-failed' as const, reason: detail };
        }
        const parser = new MultipartParser(boundaryFromContentType(response.headers['content-type']), { reuseBodies: options.reuseBodies ?? false });
        let bytes = 0;
        // Parts are handed on in order; a chunk that completes parts pauses the stream until
        // onPart has finished with every one of them.
        const deliver = async (parts: MultipartPart[]): Promise<void> => {
          for (const part of parts) {
            await onPart(toRetrievedPart(part));
            parser.reuse(part.body);
          }
        };
        await response.forEachChunk((chunk) => {
          const parts = parser.push(chunk);
          if (parts.length === 0) return undefined;
          for (const part of parts) bytes += part.body.length;
          return deliver(parts);
        });
        parser.end();
        return { kind: 'done' as const, summary: { parts: parser.parts, bytes, transferSyntaxRequested: transferSyntax } };
      },
    );
  }
}

function toRetrievedPart(part: MultipartPart): RetrievedPart {
  const contentType = part.headers['content-type'] ?? 'application/octet-stream';
  const fromHeader = parseMediaType(contentType).params['transfer-syntax'];
  // Orthanc names no transfer-syntax on the part; the Part 10 header always does (PS3.10 7.1).
  const transferSyntaxUID = fromHeader ?? readPart10Meta(part.body)?.transferSyntaxUID;
  return {
    contentType,
    ...(transferSyntaxUID ? { transferSyntaxUID } : {}),
    ...(part.headers['content-location'] ? { contentLocation: part.headers['content-location'] } : {}),
    body: part.body,
  };
}

