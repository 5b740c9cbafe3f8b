/**
 * HTTP/1.1 response framing (RFC 9112), for the socket reader (socketHttpGet.ts): the status
 * line and header fields, then a body delimited by Content-Length, by chunked transfer coding
 * (RFC 9112 7.1) or by the end of the connection (RFC 9112 6.3). Pure and incremental, like the
 * multipart parser: bytes go in as they arrive, and no reference to them is kept (views handed
 * to `onData` are valid during the call only).
 */
import { PermanentError } from '../errors';

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Field names in lower case; repeated fields joined with ", " (RFC 9110 5.3). */
  headers: Record<string, string>;
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_LINE_BYTES = 8 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

function malformed(what: string): PermanentError {
  return new PermanentError(`malformed HTTP response from the PACS: ${what}`);
}

export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (!statusLine) throw malformed(`status line "${(lines[0] ?? '').slice(0, 80)}"`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`header line "${line.slice(0, 80)}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { status: Number(statusLine[1]), statusText: statusLine[2] ?? '', headers };
}

/** Gathers the response head; `push` returns it, with the bytes after it, once complete. */
export class ResponseHeadParser {
  private pending = Buffer.alloc(0);

  /** `rest` may be a view of `chunk`. */
  push(chunk: Buffer): { head: ResponseHead; rest: Buffer } | undefined {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = buf.indexOf(HEAD_END);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) throw malformed(`response head over ${MAX_HEAD_BYTES} bytes`);
      this.pending = Buffer.from(buf);
      return undefined;
    }
    const head = parseResponseHead(buf.subarray(0, end).toString('latin1'));
    this.pending = Buffer.alloc(0);
    return { head, rest: buf.subarray(end + HEAD_END.length) };
  }
}

export type BodyFraming = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/** How the body of a response to a GET ends (RFC 9112 6.3). */
export function bodyFraming(head: ResponseHead): BodyFraming {
  if ((head.status >= 100 && head.status < 200) || head.status === 204 || head.status === 304) return { kind: 'length', length: 0 };
  const te = head.headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = te.split(',').map((c) => c.trim().toLowerCase());
    if (codings[codings.length - 1] === 'chunked') {
      if (codings.length > 1) throw malformed(`unsupported transfer coding "${te}"`);
      return { kind: 'chunked' };
    }
    return { kind: 'close' };
  }
  const cl = head.headers['content-length'];
  if (cl !== undefined) {
    if (!/^\d+$/.test(cl)) throw malformed(`Content-Length "${cl.slice(0, 40)}"`);
    return { kind: 'length', length: Number(cl) };
  }
  return { kind: 'close' };
}

type ChunkedState = 'size' | 'data' | 'dataEnd' | 'trailer' | 'done';

/** Decodes a chunked body (RFC 9112 7.1); chunk extensions and trailer fields are skipped. */
export class ChunkedDecoder {
  private state: ChunkedState = 'size';
  private line = '';
  private remaining = 0;
  /** Bytes of the CRLF after a chunk's data still expected. */
  private crlfLeft = 0;

  get done(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer, onData: (view: Buffer) => void): void {
    let i = 0;
    while (i < chunk.length && this.state !== 'done') {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, chunk.length - i);
        onData(chunk.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) {
          this.state = 'dataEnd';
          this.crlfLeft = 2;
        }
        continue;
      }
      if (this.state === 'dataEnd') {
        const expected = this.crlfLeft === 2 ? 0x0d : 0x0a;
        if (chunk[i] !== expected) throw malformed('chunk data not followed by CRLF');
        i++;
        if (--this.crlfLeft === 0) this.state = 'size';
        continue;
      }
      // 'size' and 'trailer' read lines.
      const lf = chunk.indexOf(0x0a, i);
      const end = lf < 0 ? chunk.length : lf;
      this.line += chunk.toString('latin1', i, end);
      if (this.line.length > MAX_LINE_BYTES) throw malformed('chunk size or trailer line too long');
      i = lf < 0 ? chunk.length : lf + 1;
      if (lf < 0) continue;
      const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
      this.line = '';
      if (this.state === 'trailer') {
        if (line === '') this.state = 'done';
        continue;
      }
      const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
      if (!size) throw malformed(`chunk size line "${line.slice(0, 40)}"`);
      this.remaining = parseInt(size[1], 16);
      this.state = this.remaining === 0 ? 'trailer' : 'data';
    }
  }
}

/** Any of the three framings behind one interface. */
export class BodyDecoder {
  private readonly chunked: ChunkedDecoder | undefined;
  private remaining: number;

  constructor(private readonly framing: BodyFraming) {
    this.chunked = framing.kind === 'chunked' ? new ChunkedDecoder() : undefined;
    this.remaining = framing.kind === 'length' ? framing.length : Number.POSITIVE_INFINITY;
  }

  /** Whether the whole body has been read (a close-delimited body never is before the end of the connection). */
  get done(): boolean {
    if (this.chunked) return this.chunked.done;
    return this.framing.kind === 'length' && this.remaining === 0;
  }

  /** Whether the end of the connection ends this body properly. */
  get endsWithConnection(): boolean {
    return this.framing.kind === 'close';
  }

  /** Feeds bytes; calls `onData` with the body bytes among them. Bytes past the body are ignored. */
  push(chunk: Buffer, onData: (view: Buffer) => void): void {
    if (this.chunked) {
      this.chunked.push(chunk, onData);
      return;
    }
    if (this.remaining === 0 || chunk.length === 0) return;
    const n = Math.min(this.remaining, chunk.length);
    this.remaining -= n;
    onData(n === chunk.length ? chunk : chunk.subarray(0, n));
  }
}
