/**
 * A GET over a plain TCP socket that reads into one reused buffer (`net` `onread`), for large
 * streamed WADO-RS responses over http://.
 *
 * Why: node:http allocates a new buffer for every socket read and runs its parser in JavaScript
 * callbacks per read; for a 42 MB series that cost 50-95 ms of CPU on our 2-core machine, and
 * garbage collection on top, against about 10 ms here (see docs/decisions.md). The response is
 * framed by httpResponseFraming.ts; one connection per request (`Connection: close`), which for
 * a multi-megabyte response costs nothing noticeable. https:// and small requests keep node:http.
 *
 * Data handed to `forEachChunk`'s callback are views of the read buffer, valid during the call
 * only: consumers copy what they keep (the multipart parser does).
 */
import net from 'node:net';
import { PermanentError } from '../errors';
import { BodyDecoder, ResponseHeadParser, bodyFraming, type ResponseHead } from './httpResponseFraming';
import { InactivityTimer } from './inactivityTimer';

const READ_BUFFER_BYTES = 256 * 1024;

export interface SocketGetRequest {
  url: URL;
  headers: Record<string, string>;
  /** Longest silence of the server, in ms (see InactivityTimer). */
  timeoutMs: number;
  signal?: AbortSignal;
  /** The reason given when `signal` aborts. */
  abortReason?: () => Error;
}

export interface SocketGetResponse {
  status: number;
  headers: Record<string, string>;
  /**
   * Streams the body to `onChunk` (views valid during the call). While a returned promise is
   * pending, reading stops and the timeout is suspended. Transport errors are passed through
   * `mapError`; the consumer's errors are not.
   */
  forEachChunk(onChunk: (view: Buffer) => void | Promise<void>, mapError: (err: unknown) => Error): Promise<void>;
  /** Whether the whole body has been read. */
  readonly complete: boolean;
  /** Closes the connection (a response not read to its end cannot be reused anyway). */
  destroy(): void;
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer from the PACS for ${ms} ms`), { code: 'ETIMEDOUT' });
}

function truncatedError(): Error {
  return Object.assign(new Error('the PACS closed the connection before the response was complete'), { code: 'ECONNRESET' });
}

export function socketHttpGet(request: SocketGetRequest): Promise<SocketGetResponse> {
  const { url } = request;
  if (url.protocol !== 'http:') throw new PermanentError(`socketHttpGet: only http:// URLs, got ${url.protocol}`);
  for (const [name, value] of Object.entries(request.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new PermanentError(`HTTP header ${name} contains a line break`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? 80 : Number(url.port);
  const head =
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    Object.entries(request.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    'Connection: close\r\n\r\n';

  return new Promise<SocketGetResponse>((resolveHead, rejectHead) => {
    const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const headParser = new ResponseHeadParser();
    let decoder: BodyDecoder | undefined;
    let responseHead: ResponseHead | undefined;
    let headSettled = false;

    // Body state, once a consumer is attached.
    let consumer: ((view: Buffer) => void | Promise<void>) | undefined;
    let mapError: (err: unknown) => Error = (err) => err as Error;
    let settleBody: ((err?: unknown, consumerError?: boolean) => void) | undefined;
    /** Body bytes that arrived while no consumer was attached or it was busy (copies). */
    const backlog: Buffer[] = [];
    let busy = false;
    let socketEnded = false;
    let failure: { err: unknown } | undefined;

    const timer = new InactivityTimer(request.timeoutMs, () => socket.destroy(timeoutError(request.timeoutMs)));

    const fail = (err: unknown): void => {
      if (failure) return;
      failure = { err };
      timer.clear();
      if (!headSettled) {
        headSettled = true;
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- socket errors are Errors; the transport maps them
        rejectHead(err);
      } else settleBody?.(err);
    };

    /** Hands body bytes on: directly when the consumer is free, else into the backlog. */
    const deliver = (view: Buffer): void => {
      if (!consumer || busy || backlog.length > 0) {
        backlog.push(Buffer.from(view));
        return;
      }
      runConsumer(view);
    };

    const runConsumer = (view: Buffer): void => {
      let pending: void | Promise<void>;
      try {
        pending = (consumer as (view: Buffer) => void | Promise<void>)(view);
      } catch (err) {
        settleBody?.(err, true);
        return;
      }
      if (pending === undefined) return;
      busy = true;
      timer.suspend();
      pending.then(
        () => {
          busy = false;
          timer.resume();
          drainBacklog();
        },
        (err: unknown) => settleBody?.(err, true),
      );
    };

    const drainBacklog = (): void => {
      while (!busy && backlog.length > 0 && consumer && !failure) runConsumer(backlog.shift() as Buffer);
      if (busy || failure || !consumer) return;
      if (decoder?.done || (socketEnded && decoder?.endsWithConnection)) settleBody?.();
      else if (socketEnded) settleBody?.(truncatedError());
      else socket.resume();
    };

    const onRead = (nread: number, buf: Uint8Array): boolean => {
      timer.touch();
      const view = Buffer.from(buf.buffer, buf.byteOffset, nread);
      try {
        if (!responseHead) {
          const parsed = headParser.push(view);
          if (!parsed) return true;
          responseHead = parsed.head;
          decoder = new BodyDecoder(bodyFraming(parsed.head));
          decoder.push(parsed.rest, deliver);
          headSettled = true;
          resolveHead(response);
          // Wait for a consumer before reading on.
          return false;
        }
        (decoder as BodyDecoder).push(view, deliver);
      } catch (err) {
        socket.destroy(err as Error);
        return false;
      }
      if (decoder?.done && !busy && backlog.length === 0) {
        settleBody?.();
        return false;
      }
      return !busy && consumer !== undefined;
    };

    const socket = net.connect({ host, port, onread: { buffer: readBuffer, callback: onRead } });
    socket.setNoDelay(true);
    socket.once('connect', () => {
      timer.touch();
      socket.write(head);
    });
    socket.on('error', fail);
    socket.on('end', () => {
      socketEnded = true;
      if (!headSettled) fail(truncatedError());
      else if (consumer && !busy && backlog.length === 0) drainBacklog();
    });
    socket.on('close', () => {
      if (!socketEnded && !(decoder?.done ?? false)) fail(truncatedError());
    });
    const onAbort = (): void => {
      socket.destroy(request.abortReason?.() ?? new Error('request aborted'));
    };
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => request.signal?.removeEventListener('abort', onAbort));

    const response: SocketGetResponse = {
      get status() {
        return responseHead?.status ?? 0;
      },
      get headers() {
        return responseHead?.headers ?? {};
      },
      get complete() {
        return decoder?.done ?? false;
      },
      destroy: () => {
        timer.clear();
        socket.destroy();
      },
      forEachChunk: (onChunk, map) =>
        new Promise<void>((resolve, reject) => {
          if (consumer) throw new Error('forEachChunk called twice');
          mapError = map;
          let settled = false;
          settleBody = (err?: unknown, consumerError = false): void => {
            if (settled) return;
            settled = true;
            if (err === undefined) {
              timer.clear();
              socket.destroy();
              resolve();
              return;
            }
            failure ??= { err };
            timer.clear();
            socket.destroy();
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the consumer's error, exactly as it threw it
            reject(consumerError ? err : mapError(err));
          };
          if (failure) {
            settleBody(failure.err);
            return;
          }
          consumer = onChunk;
          drainBacklog();
        }),
    };
  });
}
