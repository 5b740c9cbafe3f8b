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

/** The request line and header fields; refuses a URL that is not http:// and a header that would break the head. */
function requestHead(request: SocketGetRequest): string {
  const { url } = request;
  if (url.protocol !== 'http:') throw new PermanentError(`socketHttpGet: only http:// URLs, got ${url.protocol}`);
  for (const [name, value] of Object.entries(request.headers)) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new PermanentError(`HTTP header ${name} contains a line break`);
  }
  return (
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n` +
    Object.entries(request.headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    'Connection: close\r\n\r\n'
  );
}

export function socketHttpGet(request: SocketGetRequest): Promise<SocketGetResponse> {
  const head = requestHead(request);
  return new Promise<SocketGetResponse>((resolveHead, rejectHead) => {
    // It connects at once, and settles this promise when the response head is in (or fails).
    new SocketGetExchange(request, head, resolveHead, rejectHead);
  });
}

type ChunkConsumer = (view: Buffer) => void | Promise<void>;

/**
 * One GET on its own connection: connects, sends the request head, parses the response head
 * (then resolves with itself as the response), and hands the body to the one consumer of
 * forEachChunk, with backpressure (reading stops while the consumer is busy) and the inactivity
 * timeout. The first error ends it: before the head it rejects the request, after it the body.
 */
class SocketGetExchange implements SocketGetResponse {
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  private readonly headParser = new ResponseHeadParser();
  private readonly resolveHead: (response: SocketGetResponse) => void;
  private readonly rejectHead: (err: unknown) => void;
  private readonly timer: InactivityTimer;
  private readonly socket: net.Socket;
  private decoder: BodyDecoder | undefined;
  private responseHead: ResponseHead | undefined;
  private headSettled = false;

  // Body state, once a consumer is attached.
  private consumer: ChunkConsumer | undefined;
  private settleBody: ((err?: unknown, consumerError?: boolean) => void) | undefined;
  /** Body bytes that arrived while no consumer was attached or it was busy (copies). */
  private readonly backlog: Buffer[] = [];
  private busy = false;
  private socketEnded = false;
  private failure: { err: unknown } | undefined;

  constructor(request: SocketGetRequest, head: string, resolveHead: (response: SocketGetResponse) => void, rejectHead: (err: unknown) => void) {
    this.resolveHead = resolveHead;
    this.rejectHead = rejectHead;
    this.timer = new InactivityTimer(request.timeoutMs, () => this.socket.destroy(timeoutError(request.timeoutMs)));
    const { url } = request;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? 80 : Number(url.port);
    const socket = net.connect({ host, port, onread: { buffer: this.readBuffer, callback: (nread, buf) => this.onRead(nread, buf) } });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.once('connect', () => {
      this.timer.touch();
      socket.write(head);
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('end', () => this.onEnd());
    socket.on('close', () => {
      if (!this.socketEnded && !(this.decoder?.done ?? false)) this.fail(truncatedError());
    });
    this.followAbort(request);
  }

  get status(): number {
    return this.responseHead?.status ?? 0;
  }

  get headers(): Record<string, string> {
    return this.responseHead?.headers ?? {};
  }

  get complete(): boolean {
    return this.decoder?.done ?? false;
  }

  destroy(): void {
    this.timer.clear();
    this.socket.destroy();
  }

  forEachChunk(onChunk: ChunkConsumer, mapError: (err: unknown) => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.consumer) throw new Error('forEachChunk called twice');
      let settled = false;
      this.settleBody = (err?: unknown, consumerError = false): void => {
        if (settled) return;
        settled = true;
        if (err === undefined) {
          this.timer.clear();
          this.socket.destroy();
          resolve();
          return;
        }
        this.failure ??= { err };
        this.timer.clear();
        this.socket.destroy();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the consumer's error, exactly as it threw it
        reject(consumerError ? err : mapError(err));
      };
      if (this.failure) {
        this.settleBody(this.failure.err);
        return;
      }
      this.consumer = onChunk;
      this.drainBacklog();
    });
  }

  /** Aborting the request's signal destroys the connection with the abort reason. */
  private followAbort(request: SocketGetRequest): void {
    const onAbort = (): void => {
      this.socket.destroy(request.abortReason?.() ?? new Error('request aborted'));
    };
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    this.socket.once('close', () => request.signal?.removeEventListener('abort', onAbort));
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = { err };
    this.timer.clear();
    if (!this.headSettled) {
      this.headSettled = true;
      this.rejectHead(err);
    } else this.settleBody?.(err);
  }

  /** The socket's `onread`: bytes in the reused read buffer; returns whether to read on. */
  private onRead(nread: number, buf: Uint8Array): boolean {
    this.timer.touch();
    const view = Buffer.from(buf.buffer, buf.byteOffset, nread);
    try {
      if (!this.responseHead) return this.readHead(view);
      (this.decoder as BodyDecoder).push(view, this.deliver);
    } catch (err) {
      this.socket.destroy(err as Error);
      return false;
    }
    if (this.decoder?.done && !this.busy && this.backlog.length === 0) {
      this.settleBody?.();
      return false;
    }
    return !this.busy && this.consumer !== undefined;
  }

  /** Bytes of the response head; once it is whole, the caller gets the response and the body bytes after the head go to the decoder. */
  private readHead(view: Buffer): boolean {
    const parsed = this.headParser.push(view);
    if (!parsed) return true;
    this.responseHead = parsed.head;
    this.decoder = new BodyDecoder(bodyFraming(parsed.head));
    this.decoder.push(parsed.rest, this.deliver);
    this.headSettled = true;
    this.resolveHead(this);
    // Wait for a consumer before reading on.
    return false;
  }

  private onEnd(): void {
    this.socketEnded = true;
    if (!this.headSettled) this.fail(truncatedError());
    else if (this.consumer && !this.busy && this.backlog.length === 0) this.drainBacklog();
  }

  /** Hands body bytes on: directly when the consumer is free, else into the backlog. Bound once, for the decoder. */
  private readonly deliver = (view: Buffer): void => {
    if (!this.consumer || this.busy || this.backlog.length > 0) {
      this.backlog.push(Buffer.from(view));
      return;
    }
    this.runConsumer(view);
  };

  private runConsumer(view: Buffer): void {
    const consumer = this.consumer as ChunkConsumer;
    let pending: void | Promise<void>;
    try {
      pending = consumer(view);
    } catch (err) {
      this.settleBody?.(err, true);
      return;
    }
    if (pending === undefined) return;
    this.busy = true;
    this.timer.suspend();
    pending.then(
      () => {
        this.busy = false;
        this.timer.resume();
        this.drainBacklog();
      },
      (err: unknown) => this.settleBody?.(err, true),
    );
  }

  /** After the consumer's promise or once it is attached: the backlog first, then the end of the body, or reading on. */
  private drainBacklog(): void {
    while (!this.busy && this.backlog.length > 0 && this.consumer && !this.failure) this.runConsumer(this.backlog.shift() as Buffer);
    if (this.busy || this.failure || !this.consumer) return;
    if (this.decoder?.done || (this.socketEnded && this.decoder?.endsWithConnection)) this.settleBody?.();
    else if (this.socketEnded) this.settleBody?.(truncatedError());
    else this.socket.resume();
  }
}
