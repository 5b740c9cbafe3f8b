/**
 * The one place where the node talks HTTP to the PACS (DICOMweb and Orthanc's REST API):
 * node:http/https with keep-alive, basic or bearer authentication, TLS with extra CA
 * certificates, an inactivity timeout, retries with exponential backoff on 5xx and connection
 * errors only, and a semaphore bounding concurrent requests. Streamed GETs over http:// use the
 * socket reader (socketHttpGet.ts) instead of node:http: far less CPU for large bodies.
 *
 * Errors leave this module typed (src/errors): TransientError when another attempt may succeed
 * (5xx, refused, reset, timed out), PermanentError otherwise (401/403 and other 4xx, TLS
 * verification). The HTTP status, when there was one, is in `httpStatusOf(err)`.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { PermanentError, TransientError } from '../errors';
import { silentLogger, type Logger } from '../logging/logger';
import { InactivityTimer } from './inactivityTimer';
import { classifyConnectionError, isRetryableStatus, requestBackoffMs } from './requestRetry';
import { Semaphore } from './semaphore';
import { socketHttpGet } from './socketHttpGet';

export interface HttpTransportOptions {
  username?: string;
  password?: string;
  /** Sent as `Authorization: Bearer …`; takes precedence over username/password. */
  bearerToken?: string;
  /** Extra trusted CA certificates (PEM), added to Node's built-in roots, for https:// URLs. */
  ca?: string;
  /**
   * Longest wait for the server, in ms: to connect and send the response headers, and then
   * between two pieces of the response body. Time spent by the caller while a streamed response
   * is paused (backpressure) does not count.
   */
  requestTimeoutMs: number;
  /** Attempts per request on 5xx and connection errors (1 = no retry). */
  requestAttempts: number;
  /** First backoff in ms; doubles per attempt (requestRetry.ts). */
  requestBackoffMs: number;
  /** Requests in flight at once, across every caller of this transport. */
  maxConcurrent: number;
  logger?: Logger;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Reader of streamed GETs over http://: `socket` (default; see socketHttpGet.ts) or
   * `node-http`. https:// and collected requests always use node:http.
   */
  streamReader?: 'socket' | 'node-http';
}

export interface HttpRequestSpec {
  method: string;
  url: string;
  headers?: Record<string, string>;
  /** Written in order with a Content-Length; never concatenated. */
  body?: Uint8Array[];
  signal?: AbortSignal;
  /**
   * Statuses handed to the caller instead of thrown (default: 2xx). A retryable status (5xx)
   * outside this set is retried; one inside it is returned at once.
   */
  accept?: (status: number) => boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A response whose body the caller reads piece by piece (see HttpTransport.stream). */
export interface ResponseStream {
  status: number;
  headers: IncomingHttpHeaders;
  /**
   * Hands each chunk of the body to `onChunk` as it arrives, and resolves at its end. Chunks may
   * be views of a reused read buffer: valid during the call only, so copy what you keep. When
   * `onChunk` returns a promise, reading stops, and the inactivity timeout is suspended (a slow
   * consumer is backpressure, not a dead server), until it settles; calls never overlap.
   * Transport errors are mapped to TransientError/PermanentError; errors of `onChunk` pass
   * through as they are.
   */
  forEachChunk(onChunk: (chunk: Buffer) => void | Promise<void>): Promise<void>;
}

/** What an HTTP failure carries as its `cause`. */
export interface HttpFailureDetails {
  method: string;
  url: string;
  httpStatus?: number;
  code?: string;
  cause?: unknown;
}

/** HTTP status of a failed request, when the server answered. */
export function httpStatusOf(err: unknown): number | undefined {
  const cause = (err as { cause?: unknown } | null)?.cause;
  const status = (cause as { httpStatus?: unknown } | null)?.httpStatus;
  return typeof status === 'number' ? status : undefined;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('request aborted');
  err.name = 'AbortError';
  return err;
}

/** A short, log-safe summary of an error body (Orthanc answers JSON with Details/Message). */
function describeErrorBody(body: Buffer): string {
  const text = body.subarray(0, 2000).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { Details?: unknown; Message?: unknown };
    const detail = typeof parsed.Details === 'string' ? parsed.Details : typeof parsed.Message === 'string' ? parsed.Message : undefined;
    if (detail) return detail.slice(0, 300);
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

/** One attempt, from the response head on, whichever reader produced it. */
interface Attempt {
  status: number;
  headers: IncomingHttpHeaders;
  /** See ResponseStream.forEachChunk; `mapError` maps transport errors. */
  forEachChunk(onChunk: (chunk: Buffer) => void | Promise<void>, mapError: (err: unknown) => Error): Promise<void>;
  /** Ends the attempt: closes the connection unless the body was read to its end. */
  dispose(): void;
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer from the PACS for ${ms} ms`), { code: 'ETIMEDOUT' });
}

function truncatedError(): Error {
  return Object.assign(new Error('the PACS closed the connection before the response was complete'), { code: 'ECONNRESET' });
}

export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly semaphore: Semaphore;
  private readonly logger: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly authorization: string | undefined;

  constructor(private readonly options: HttpTransportOptions) {
    this.semaphore = new Semaphore(options.maxConcurrent);
    this.logger = options.logger ?? silentLogger;
    this.sleep = options.sleep ?? defaultSleep;
    this.httpAgent = new http.Agent({ keepAlive: true });
    this.httpsAgent = new https.Agent({ keepAlive: true, ...(options.ca ? { ca: [...rootCertificates, options.ca] } : {}) });
    if (options.bearerToken) this.authorization = `Bearer ${options.bearerToken}`;
    else if (options.username !== undefined) {
      this.authorization = 'Basic ' + Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64');
    }
  }

  /** Requests in flight now (metrics, tests). */
  get inFlight(): number {
    return this.semaphore.inUse;
  }

  /** A request whose (small) response body is collected whole: QIDO, metadata, STOW, REST. */
  async request(spec: HttpRequestSpec): Promise<HttpResponse> {
    return this.withRetries(spec, false, async (attempt) => {
      const body = await this.collect(spec, attempt);
      return { status: attempt.status, headers: attempt.headers, body };
    });
  }

  /**
   * A request whose body the caller consumes as it arrives (WADO-RS). Retries happen only
   * before `consume` is called; once it has run, a failure is the caller's to handle, because
   * it may already have acted on part of the body.
   */
  async stream<T>(spec: HttpRequestSpec, consume: (response: ResponseStream) => Promise<T>): Promise<T> {
    return this.withRetries(spec, true, (attempt) => {
      const stream: ResponseStream = {
        status: attempt.status,
        headers: attempt.headers,
        forEachChunk: (onChunk) => attempt.forEachChunk(onChunk, (err) => this.mapStreamError(spec, err)),
      };
      return consume(stream);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async withRetries<T>(spec: HttpRequestSpec, streamed: boolean, onAccepted: (attempt: Attempt) => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.options.requestAttempts);
    const accept = spec.accept ?? ((s: number) => s >= 200 && s < 300);
    for (let n = 1; ; n++) {
      if (spec.signal?.aborted) throw abortReason(spec.signal);
      const release = await this.semaphore.acquire();
      let consuming = false;
      try {
        const useSocket = streamed && spec.method === 'GET' && spec.body === undefined && this.options.streamReader !== 'node-http' && spec.url.startsWith('http:');
        const attempt = useSocket ? await this.sendOverSocket(spec) : await this.send(spec);
        try {
          if (!accept(attempt.status)) {
            throw this.statusError(spec, attempt.status, await this.collect(spec, attempt));
          }
          consuming = true;
          return await onAccepted(attempt);
        } finally {
          attempt.dispose();
        }
      } catch (err) {
        if (spec.signal?.aborted) throw abortReason(spec.signal);
        // The consumer's own errors (e.g. an AnalysisRefusedError from volume assembly) pass
        // through untouched; transport errors met while consuming are already mapped.
        if (consuming) throw err;
        const mapped = this.mapError(spec, err);
        const retry = mapped instanceof TransientError && n < attempts;
        if (!retry) throw mapped;
        const delay = requestBackoffMs(n, this.options.requestBackoffMs);
        this.logger.warn('PACS request failed; retrying', { method: spec.method, url: spec.url, attempt: n, delayMs: delay, reason: mapped.message });
        release();
        await this.sleep(delay);
        continue;
      } finally {
        release();
      }
    }
  }

  /** One attempt up to the response headers. */
  private send(spec: HttpRequestSpec): Promise<Attempt> {
    const url = new URL(spec.url);
    const isHttps = url.protocol === 'https:';
    if (!isHttps && url.protocol !== 'http:') throw new PermanentError(`unsupported URL scheme in ${spec.url}`);
    const headers: Record<string, string> = { ...spec.headers };
    if (this.authorization) headers.Authorization = this.authorization;
    const body = spec.body ?? [];
    if (spec.body !== undefined) headers['Content-Length'] = String(body.reduce((sum, b) => sum + b.byteLength, 0));

    return new Promise<Attempt>((resolve, reject) => {
      const request = (isHttps ? https : http).request(url, { method: spec.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent });
      let response: IncomingMessage | undefined;
      let settled = false;
      const fail = (err: Error): void => {
        if (response) response.destroy(err);
        else request.destroy(err);
      };
      const timer = new InactivityTimer(this.options.requestTimeoutMs, () => fail(timeoutError(this.options.requestTimeoutMs)));
      const onAbort = (): void => fail(abortReason(spec.signal as AbortSignal));
      spec.signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => spec.signal?.removeEventListener('abort', onAbort));
      request.on('error', (err) => {
        timer.clear();
        if (!settled) {
          settled = true;
          reject(err);
        }
      });
      request.once('response', (res) => {
        response = res;
        // Readers see errors through forEachChunk; this keeps an error raised while nobody is
        // reading (a timeout between reads) from becoming an uncaught exception.
        res.on('error', () => undefined);
        timer.touch();
        settled = true;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          forEachChunk: (onChunk, mapError) => this.forEachChunk(res, timer, onChunk, mapError),
          dispose: () => {
            timer.clear();
            if (!res.complete) res.destroy();
          },
        });
      });
      void this.writeBody(request, body, timer).catch((err: unknown) => request.destroy(err as Error));
    });
  }

  /** One streamed GET over http:// with the socket reader, up to the response head. */
  private async sendOverSocket(spec: HttpRequestSpec): Promise<Attempt> {
    const headers: Record<string, string> = { ...spec.headers };
    if (this.authorization) headers.Authorization = this.authorization;
    const response = await socketHttpGet({
      url: new URL(spec.url),
      headers,
      timeoutMs: this.options.requestTimeoutMs,
      signal: spec.signal,
      abortReason: () => abortReason(spec.signal as AbortSignal),
    });
    return {
      status: response.status,
      headers: response.headers,
      forEachChunk: (onChunk, mapError) => response.forEachChunk(onChunk, mapError),
      dispose: () => response.destroy(),
    };
  }

  private async writeBody(request: http.ClientRequest, body: Uint8Array[], timer: InactivityTimer): Promise<void> {
    for (const part of body) {
      if (request.destroyed) return;
      if (!request.write(part)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            request.off('drain', done);
            request.off('close', done);
            resolve();
          };
          request.on('drain', done);
          request.on('close', done);
        });
      }
      timer.touch();
    }
    if (!request.destroyed) request.end();
  }

  private async collect(spec: HttpRequestSpec, attempt: Attempt): Promise<Buffer> {
    const chunks: Buffer[] = [];
    // Copies: a chunk may be a view of a reused read buffer.
    await attempt.forEachChunk((chunk) => void chunks.push(Buffer.from(chunk)), (err) => this.mapStreamError(spec, err));
    return Buffer.concat(chunks);
  }

  /**
   * Reads the body with 'data' events (no async iterator: it costs a promise per chunk and may
   * copy buffered chunks together), pausing the socket while the consumer's promise is pending.
   */
  private forEachChunk(
    response: IncomingMessage,
    timer: InactivityTimer,
    onChunk: (chunk: Buffer) => void | Promise<void>,
    mapError: (err: unknown) => Error,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let busy = false;
      let ended = false;
      const cleanup = (): void => {
        response.off('data', onData);
        response.off('end', onEnd);
        response.off('error', onError);
        response.off('close', onClose);
      };
      const finish = (err?: unknown, mapTransportError = true): void => {
        if (settled) return;
        settled = true;
        cleanup();
        if (err === undefined) {
          resolve();
          return;
        }
        if (!response.complete) response.destroy();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the consumer's error, exactly as it threw it
        reject(mapTransportError ? mapError(err) : err);
      };
      const consumerFailed = (err: unknown): void => finish(err, false);
      const onData = (chunk: Buffer): void => {
        timer.touch();
        let pending: void | Promise<void>;
        try {
          pending = onChunk(chunk);
        } catch (err) {
          consumerFailed(err);
          return;
        }
        if (pending === undefined) return;
        busy = true;
        response.pause();
        timer.suspend();
        pending.then(() => {
          busy = false;
          timer.resume();
          if (settled) return;
          if (ended) finish();
          else response.resume();
        }, consumerFailed);
      };
      const onEnd = (): void => {
        ended = true;
        if (!response.complete) finish(truncatedError());
        else if (!busy) finish();
      };
      const onError = (err: Error): void => finish(err);
      // A response that closes without 'end' was cut off.
      const onClose = (): void => {
        if (!ended) finish(truncatedError());
      };
      response.on('data', onData);
      response.on('end', onEnd);
      response.on('error', onError);
      response.on('close', onClose);
      response.resume();
    });
  }

  private statusError(spec: HttpRequestSpec, status: number, body: Buffer): Error {
    const details: HttpFailureDetails = { method: spec.method, url: spec.url, httpStatus: status };
    const text = describeErrorBody(body);
    const what = `${spec.method} ${spec.url}: HTTP ${status}${text ? ` (${text})` : ''}`;
    if (isRetryableStatus(status)) return new TransientError(`the PACS failed: ${what}`, details);
    if (status === 401 || status === 403) return new PermanentError(`the PACS refused the node's credentials: ${what}`, details);
    return new PermanentError(`the PACS refused the request: ${what}`, details);
  }

  /** Errors met while reading a body: an abort stays an abort. */
  private mapStreamError(spec: HttpRequestSpec, err: unknown): Error {
    if (spec.signal?.aborted) return abortReason(spec.signal);
    return this.mapError(spec, err);
  }

  private mapError(spec: HttpRequestSpec, err: unknown): Error {
    if (err instanceof TransientError || err instanceof PermanentError) return err;
    if ((err as Error | null)?.name === 'AbortError') return err as Error;
    const code = (err as { code?: unknown } | null)?.code;
    const details: HttpFailureDetails = { method: spec.method, url: spec.url, code: typeof code === 'string' ? code : undefined, cause: err };
    const message = `${spec.method} ${spec.url}: ${(err as Error | null)?.message ?? String(err)}`;
    return classifyConnectionError(err) === 'transient'
      ? new TransientError(`cannot reach the PACS: ${message}`, details)
      : new PermanentError(`request to the PACS failed: ${message}`, details);
  }
}
