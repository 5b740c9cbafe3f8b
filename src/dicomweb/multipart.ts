/**
 * Incremental multipart/related parser (RFC 2046 5.1.1, RFC 2387), the framing of WADO-RS
 * responses (PS3.18 8.6.1.2). Bytes go in as they arrive; each part comes out as soon as its
 * closing delimiter has been seen. The body is never gathered whole: the parser holds the part in
 * progress plus at most one delimiter's length of look-ahead.
 *
 * The parser keeps no reference to the chunks it is given: what it needs later is copied (each
 * part's body into one buffer, sized from the part's Content-Length when it has one). So a reader
 * may hand it views of one reused read buffer.
 *
 * Framing, per RFC 2046: every delimiter is CRLF "--" boundary; the first may open the body
 * without the CRLF. After a delimiter come optional transport padding (spaces/tabs), CRLF, the
 * part's header lines, an empty line, then the body up to the next delimiter. The close
 * delimiter has "--" right after the boundary; whatever follows it (the epilogue) is ignored, as
 * is anything before the first delimiter (the preamble).
 *
 * Pure: no I/O. The HTTP shell (client.ts) feeds it and applies backpressure.
 */
import { PermanentError, TransientError } from '../errors';
import { parseMediaType } from './contentType';

export interface MultipartPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** Header blocks beyond this are malformed input, not a DICOM part. */
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_BOUNDARY_LENGTH = 200;
/** First allocation for a part of unknown size. */
const MIN_BODY_CAPACITY = 64 * 1024;
/** A declared part length beyond this is not trusted for a single allocation. */
const MAX_PREALLOCATED_BYTES = 1024 * 1024 * 1024;
/** Bodies kept for reuse (reuseBodies): the consumer hands each back before the next part is read. */
const MAX_SPARE_BODIES = 2;

/** The boundary of a multipart Content-Type; PermanentError when it is not multipart or lacks one. */
export function boundaryFromContentType(contentType: string | undefined): string {
  if (contentType === undefined) throw new PermanentError('multipart response without a Content-Type');
  const media = parseMediaType(contentType);
  if (!media.type.startsWith('multipart/')) throw new PermanentError(`expected a multipart response, got Content-Type "${contentType}"`);
  const boundary = media.params.boundary;
  // RFC 2046 allows 1 to 70 characters; decode tolerantly, up to a sanity limit.
  if (boundary === undefined || boundary.length === 0 || boundary.length > MAX_BOUNDARY_LENGTH) {
    throw new PermanentError(`multipart Content-Type without a valid boundary: "${contentType}"`);
  }
  return boundary;
}

type State = 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'epilogue';

export class MultipartParser {
  private readonly delimiter: Buffer;
  private state: State = 'preamble';
  /** Unconsumed bytes outside bodies (preamble tail, boundary line, headers). Small. */
  private pending: Buffer;
  private headers: Record<string, string> = {};
  /** The part in progress: `body[0, bodyBytes)`. */
  private body: Buffer | undefined;
  private bodyBytes = 0;
  /** The part's Content-Length, when it declared one: the size to allocate at once. */
  private expectedBytes: number | undefined;
  /** Body bytes held back because they may be the start of the next delimiter (< delimiter length). */
  private tail: Buffer = Buffer.alloc(0);
  private partsSeen = 0;
  /** Bodies handed back by the consumer (reuseBodies), whole, ready for later parts. */
  private readonly spareBodies: Buffer[] = [];
  /** The memory of the bodies this parser allocated, the only memory it takes back. */
  private readonly ownBodies = new WeakSet<ArrayBufferLike>();
  private readonly reuseBodies: boolean;

  /**
   * With `reuseBodies`, a part's body may be a view of a larger buffer, and the consumer hands
   * each body back with `reuse` once it is done with it: a series of 500 KB instances is then
   * written into the same few buffers instead of 100 fresh ones (fresh memory faults on every page).
   */
  constructor(boundary: string, options: { reuseBodies?: boolean } = {}) {
    this.reuseBodies = options.reuseBodies ?? false;
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // A virtual CRLF lets the first delimiter open the body without one (RFC 2046 5.1.1).
    this.pending = Buffer.from(CRLF);
  }

  /** Whether the close delimiter has been seen. */
  get complete(): boolean {
    return this.state === 'epilogue';
  }

  get parts(): number {
    return this.partsSeen;
  }

  /** Feeds the next bytes; returns the parts completed by them, in order. */
  push(chunk: Buffer): MultipartPart[] {
    const out: MultipartPart[] = [];
    let data: Buffer = chunk;
    while (data.length > 0) {
      switch (this.state) {
        case 'epilogue':
          return out;
        case 'body':
          data = this.consumeBody(data, out);
          break;
        default:
          data = this.consumeFraming(data);
          break;
      }
    }
    return out;
  }

  /**
   * Takes back the body of a part whose consumer keeps no reference to it (nor to a view of it):
   * a later part is written into the same memory. Ignored without `reuseBodies`.
   */
  reuse(body: Buffer): void {
    if (!this.reuseBodies || !this.ownBodies.has(body.buffer) || this.spareBodies.some((b) => b.buffer === body.buffer)) return;
    this.spareBodies.push(Buffer.from(body.buffer, 0, body.buffer.byteLength));
    // The largest are kept.
    this.spareBodies.sort((a, b) => b.length - a.length);
    this.spareBodies.length = Math.min(this.spareBodies.length, MAX_SPARE_BODIES);
  }

  /** Call at the end of the stream: a body that stops before its close delimiter is truncated. */
  end(): void {
    if (this.state !== 'epilogue') {
      throw new TransientError(`multipart response ended before its close delimiter (after ${this.partsSeen} complete parts)`);
    }
  }

  /** Preamble, delimiter line and headers: small, so they are gathered in `pending`. */
  private consumeFraming(chunk: Buffer): Buffer {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.state === 'preamble') {
        const at = buf.indexOf(this.delimiter);
        if (at < 0) {
          // Keep only what may be the start of the first delimiter.
          this.pending = Buffer.from(buf.subarray(Math.max(0, buf.length - (this.delimiter.length - 1))));
          return Buffer.alloc(0);
        }
        buf = buf.subarray(at + this.delimiter.length);
        this.state = 'afterDelimiter';
      }
      if (this.state === 'afterDelimiter') {
        if (buf.length < 2) {
          this.pending = Buffer.from(buf);
          return Buffer.alloc(0);
        }
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          // "--": the close delimiter; the rest is epilogue.
          this.state = 'epilogue';
          this.pending = Buffer.alloc(0);
          return Buffer.alloc(0);
        }
        this.state = 'headers';
      }
      if (this.state === 'headers') {
        // The delimiter line ends with optional padding and CRLF; searching CRLF CRLF from that
        // CRLF finds the end of the header block, also when the part has no headers.
        const lineEnd = buf.indexOf(CRLF);
        if (lineEnd < 0) return this.holdFraming(buf);
        const padding = buf.subarray(0, lineEnd);
        if (!padding.every((b) => b === 0x20 || b === 0x09)) {
          throw new PermanentError('malformed multipart body: unexpected bytes after a boundary');
        }
        const headerEnd = buf.indexOf(HEADER_END, lineEnd);
        if (headerEnd < 0) return this.holdFraming(buf);
        this.headers = parseHeaderBlock(buf.subarray(lineEnd + 2, headerEnd).toString('latin1'));
        const declared = Number(this.headers['content-length']);
        this.expectedBytes = Number.isSafeInteger(declared) && declared >= 0 && declared <= MAX_PREALLOCATED_BYTES ? declared : undefined;
        this.state = 'body';
        this.pending = Buffer.alloc(0);
        return buf.subarray(headerEnd + HEADER_END.length);
      }
      return buf;
    }
  }

  private holdFraming(buf: Buffer): Buffer {
    if (buf.length > MAX_HEADER_BYTES) throw new PermanentError(`malformed multipart body: part headers over ${MAX_HEADER_BYTES} bytes`);
    this.pending = Buffer.from(buf);
    return Buffer.alloc(0);
  }

  /**
   * Body bytes: searches the delimiter in the chunk itself (no copy), and across the chunk
   * boundary only in the held-back tail plus the first delimiter-length bytes of the chunk.
   */
  private consumeBody(chunk: Buffer, out: MultipartPart[]): Buffer {
    const d = this.delimiter.length;
    if (this.tail.length > 0) {
      if (chunk.length < d) {
        // Too short to reason about alone: merge with the tail (both small) and start over.
        const merged = Buffer.concat([this.tail, chunk]);
        this.tail = Buffer.alloc(0);
        return this.consumeBodyFromStart(merged, out);
      }
      const tailLength = this.tail.length;
      const window = Buffer.concat([this.tail, chunk.subarray(0, d - 1)]);
      const at = window.indexOf(this.delimiter);
      if (at >= 0 && at < tailLength) {
        this.addBody(this.tail.subarray(0, at));
        this.tail = Buffer.alloc(0);
        this.finishPart(out);
        // The delimiter ends inside the chunk, at window offset at + d.
        return chunk.subarray(at + d - tailLength);
      }
      // No delimiter starts in the tail, so all of it is body.
      this.addBody(this.tail);
      this.tail = Buffer.alloc(0);
    }
    return this.consumeBodyFromStart(chunk, out);
  }

  private consumeBodyFromStart(chunk: Buffer, out: MultipartPart[]): Buffer {
    const at = chunk.indexOf(this.delimiter);
    if (at >= 0) {
      this.addBody(chunk.subarray(0, at));
      this.finishPart(out);
      return chunk.subarray(at + this.delimiter.length);
    }
    const keep = Math.min(this.delimiter.length - 1, chunk.length);
    this.addBody(chunk.subarray(0, chunk.length - keep));
    this.tail = Buffer.from(chunk.subarray(chunk.length - keep));
    return Buffer.alloc(0);
  }

  /** Copies body bytes into the part's buffer, growing it by doubling when the size was unknown. */
  private addBody(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const needed = this.bodyBytes + bytes.length;
    if (this.body === undefined || needed > this.body.length) {
      const capacity = Math.max(needed, this.expectedBytes ?? 0, 2 * (this.body?.length ?? 0), MIN_BODY_CAPACITY);
      const grown = this.takeSpareBody(capacity) ?? this.allocateBody(capacity);
      if (this.body !== undefined) this.body.copy(grown, 0, 0, this.bodyBytes);
      this.body = grown;
    }
    bytes.copy(this.body, this.bodyBytes);
    this.bodyBytes = needed;
  }

  private allocateBody(capacity: number): Buffer {
    if (!this.reuseBodies) return Buffer.allocUnsafe(capacity);
    // Rounded up, so that the next instances (a few bytes longer or shorter) fit in it.
    const body = Buffer.allocUnsafeSlow(Math.ceil(capacity / MIN_BODY_CAPACITY) * MIN_BODY_CAPACITY);
    this.ownBodies.add(body.buffer);
    return body;
  }

  private takeSpareBody(capacity: number): Buffer | undefined {
    const at = this.spareBodies.findLastIndex((b) => b.length >= capacity);
    return at < 0 ? undefined : this.spareBodies.splice(at, 1)[0];
  }

  private finishPart(out: MultipartPart[]): void {
    let body: Buffer;
    if (this.body === undefined) body = Buffer.alloc(0);
    else if (this.body.length === this.bodyBytes) body = this.body;
    // A reused body comes back: no need to trim it.
    else if (this.reuseBodies) body = this.body.subarray(0, this.bodyBytes);
    // Trim: a part is kept by its consumer, so it should not pin a much larger buffer.
    else body = Buffer.from(this.body.subarray(0, this.bodyBytes));
    out.push({ headers: this.headers, body });
    this.partsSeen++;
    this.headers = {};
    this.body = undefined;
    this.bodyBytes = 0;
    this.expectedBytes = undefined;
    this.state = 'afterDelimiter';
  }
}

/** Header lines "Name: value" (RFC 5322 2.2); names lower-cased; obsolete line folding unfolded. */
export function parseHeaderBlock(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (block.length === 0) return headers;
  const lines = block.split('\r\n');
  let last: string | undefined;
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && last !== undefined) {
      headers[last] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new PermanentError(`malformed multipart part header: "${line.slice(0, 80)}"`);
    last = line.slice(0, colon).trim().toLowerCase();
    headers[last] = line.slice(colon + 1).trim();
  }
  return headers;
}
