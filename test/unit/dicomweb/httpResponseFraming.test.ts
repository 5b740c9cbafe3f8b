import { expect } from 'chai';
import { BodyDecoder, ChunkedDecoder, ResponseHeadParser, bodyFraming, parseResponseHead } from '../../../src/dicomweb/httpResponseFraming';
import { PermanentError } from '../../../src/errors';

/** Feeds `data` cut at `cuts` through views of one reused buffer; returns the decoded body. */
function decodeChunked(data: Buffer, cuts: number[]): { body: Buffer; done: boolean } {
  const decoder = new ChunkedDecoder();
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    const reused = Buffer.from(data.subarray(start, cut));
    decoder.push(reused, (view) => out.push(Buffer.from(view)));
    reused.fill(0x7e);
    start = cut;
  }
  return { body: Buffer.concat(out), done: decoder.done };
}

describe('dicomweb/httpResponseFraming: HTTP/1.1 response framing for the socket reader', () => {
  it('parses the status line and header fields, joining repeated fields', () => {
    const head = parseResponseHead('HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=x\r\nX-A: 1\r\nx-a: 2');
    expect(head).to.deep.equal({ status: 200, statusText: 'OK', headers: { 'content-type': 'multipart/related; boundary=x', 'x-a': '1, 2' } });
    expect(parseResponseHead('HTTP/1.0 500').status).to.equal(500);
    expect(() => parseResponseHead('HTTP/2 200 OK')).to.throw(PermanentError);
    expect(() => parseResponseHead('HTTP/1.1 200 OK\r\nno colon here')).to.throw(PermanentError);
  });

  it('finds the end of the head whatever the chunking, and hands back the bytes after it', () => {
    const raw = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    for (let cut = 0; cut <= raw.length; cut++) {
      const parser = new ResponseHeadParser();
      const first = parser.push(raw.subarray(0, cut));
      const result = first ?? parser.push(raw.subarray(cut));
      expect(result?.head.status, `cut ${cut}`).to.equal(200);
      const rest = first ? Buffer.concat([first.rest, raw.subarray(cut)]) : (result?.rest ?? Buffer.alloc(0));
      expect(rest.toString(), `cut ${cut}`).to.equal('hello');
    }
  });

  // Each row: headers, expected framing, why.
  const framings: Array<[number, Record<string, string>, unknown, string]> = [
    [200, { 'content-length': '42' }, { kind: 'length', length: 42 }, 'Content-Length'],
    [200, { 'transfer-encoding': 'chunked', 'content-length': '42' }, { kind: 'chunked' }, 'chunked wins over Content-Length (RFC 9112 6.3)'],
    [200, { 'transfer-encoding': 'Chunked' }, { kind: 'chunked' }, 'codings are case-insensitive'],
    [200, {}, { kind: 'close' }, 'neither: the body ends with the connection (Orthanc when it transcodes)'],
    [204, { 'content-length': '10' }, { kind: 'length', length: 0 }, '204 has no body'],
  ];
  for (const [status, headers, expected, why] of framings) {
    it(`framing: ${why}`, () => expect(bodyFraming({ status, statusText: '', headers })).to.deep.equal(expected));
  }
  it('refuses a transfer coding it cannot decode and a malformed Content-Length', () => {
    expect(() => bodyFraming({ status: 200, statusText: '', headers: { 'transfer-encoding': 'gzip, chunked' } })).to.throw(PermanentError);
    expect(() => bodyFraming({ status: 200, statusText: '', headers: { 'content-length': '12, 12' } })).to.throw(PermanentError);
  });

  it('decodes a chunked body at every cut point, with extensions and trailers, from a reused buffer', () => {
    const data = Buffer.from('5;ext=1\r\nhello\r\n1A\r\n' + 'x'.repeat(26) + '\r\n0\r\nTrailer: yes\r\n\r\n');
    const expected = 'hello' + 'x'.repeat(26);
    for (let a = 0; a <= data.length; a++) {
      for (let b = a; b <= data.length; b += 3) {
        const { body, done } = decodeChunked(data, [a, b]);
        expect(body.toString(), `cuts ${a},${b}`).to.equal(expected);
        expect(done).to.equal(true);
      }
    }
  });

  it('a chunked body cut short is not done; a malformed one is a PermanentError', () => {
    expect(decodeChunked(Buffer.from('5\r\nhel'), []).done).to.equal(false);
    expect(() => decodeChunked(Buffer.from('zz\r\n'), [])).to.throw(PermanentError, /chunk size/);
    expect(() => decodeChunked(Buffer.from('2\r\nabXY'), [])).to.throw(PermanentError, /CRLF/);
  });

  it('a Content-Length body stops at its length', () => {
    const decoder = new BodyDecoder({ kind: 'length', length: 4 });
    const out: string[] = [];
    decoder.push(Buffer.from('ab'), (v) => out.push(v.toString()));
    expect(decoder.done).to.equal(false);
    decoder.push(Buffer.from('cdEXTRA'), (v) => out.push(v.toString()));
    expect(out.join('')).to.equal('abcd');
    expect(decoder.done).to.equal(true);
  });
});
