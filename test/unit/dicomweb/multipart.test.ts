import { expect } from 'chai';
import { MultipartParser, boundaryFromContentType, parseHeaderBlock, type MultipartPart } from '../../../src/dicomweb/multipart';
import { PermanentError, TransientError } from '../../../src/errors';

const BOUNDARY = 'b0und4ry';

interface Part {
  headers: string[];
  body: Buffer;
}

/** A multipart/related body (RFC 2046 5.1.1) with the given preamble, parts and epilogue. */
function encode(parts: Part[], options: { preamble?: string; epilogue?: string; padding?: string; boundary?: string } = {}): Buffer {
  const boundary = options.boundary ?? BOUNDARY;
  const chunks: Buffer[] = [];
  if (options.preamble !== undefined) chunks.push(Buffer.from(options.preamble + '\r\n', 'latin1'));
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}${options.padding ?? ''}\r\n${part.headers.map((h) => h + '\r\n').join('')}\r\n`, 'latin1'));
    chunks.push(part.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--${options.epilogue ?? ''}`, 'latin1'));
  return Buffer.concat(chunks);
}

/** Feeds `data` cut at the given offsets; returns the parts and checks the parser finished. */
function parseChunked(data: Buffer, cuts: number[], boundary = BOUNDARY): MultipartPart[] {
  const parser = new MultipartParser(boundary);
  const parts: MultipartPart[] = [];
  let start = 0;
  for (const cut of [...cuts, data.length]) {
    // Copy, so the parser cannot depend on chunks being views of one buffer.
    parts.push(...parser.push(Buffer.from(data.subarray(start, cut))));
    start = cut;
  }
  parser.end();
  return parts;
}

function expectParts(actual: MultipartPart[], expected: Part[], why: string): void {
  expect(actual.length, why).to.equal(expected.length);
  actual.forEach((p, i) => {
    expect(p.body.equals(expected[i].body), `${why}: body of part ${i}`).to.equal(true);
    const expectedHeaders = parseHeaderBlock(expected[i].headers.join('\r\n'));
    expect(p.headers, `${why}: headers of part ${i}`).to.deep.equal(expectedHeaders);
  });
}

const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

// Each row: a case and why it is hard.
const CASES: Array<{ name: string; parts: Part[]; options?: Parameters<typeof encode>[1] }> = [
  {
    name: 'two instances, no preamble (the first delimiter opens the body without CRLF)',
    parts: [
      { headers: ['Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1'], body: Buffer.from('DICM-one') },
      { headers: ['Content-Type: application/dicom', 'Content-Location: /x/2'], body: Buffer.from('DICM-two') },
    ],
  },
  {
    name: 'preamble and epilogue are ignored, even when they look like delimiters',
    parts: [{ headers: ['Content-Type: application/dicom'], body: Buffer.from('payload') }],
    options: { preamble: 'This is a preamble. --b0und4 not quite', epilogue: '\r\nepilogue --b0und4ry\r\nContent-Type: x\r\n\r\nignored' },
  },
  {
    name: 'near-misses inside bodies: CRLF-- without the boundary, the boundary without CRLF, trailing CR/LF',
    parts: [
      { headers: ['Content-Type: application/dicom'], body: Buffer.from('a\r\n--b0und4rx\r\n--b0und4--b0und4ry\r\r\n\r') },
      { headers: ['Content-Type: application/dicom'], body: Buffer.from('\r\n\r\n--\r\n') },
    ],
  },
  {
    name: 'every byte value in a body, an empty body, and a part without headers',
    parts: [
      { headers: ['Content-Type: application/octet-stream'], body: Buffer.concat([allBytes, allBytes]) },
      { headers: ['Content-Type: application/dicom'], body: Buffer.alloc(0) },
      { headers: [], body: Buffer.from('no headers') },
    ],
  },
  {
    name: 'transport padding after the boundary (RFC 2046 allows spaces and tabs)',
    parts: [{ headers: ['Content-Type: application/dicom'], body: Buffer.from('padded') }],
    options: { padding: ' \t ' },
  },
  {
    name: 'a one-character boundary',
    parts: [
      { headers: ['Content-Type: a'], body: Buffer.from('x--y\r\n-z') },
      { headers: ['Content-Type: b'], body: Buffer.from('--') },
    ],
    options: { boundary: 'q' },
  },
];

describe('dicomweb/multipart: incremental multipart/related parser', () => {
  for (const c of CASES) {
    it(`${c.name}: same parts whatever the chunking`, () => {
      const boundary = c.options?.boundary ?? BOUNDARY;
      const data = encode(c.parts, c.options);
      expectParts(parseChunked(data, [], boundary), c.parts, 'one chunk');
      // Every single cut point.
      for (let cut = 0; cut <= data.length; cut++) expectParts(parseChunked(data, [cut], boundary), c.parts, `cut at ${cut}`);
      // Byte by byte.
      expectParts(
        parseChunked(
          data,
          Array.from({ length: data.length }, (_, i) => i),
          boundary,
        ),
        c.parts,
        'byte by byte',
      );
    });
  }

  it('keeps no reference to its input: chunks may be views of one reused buffer', () => {
    const parts: Part[] = [
      { headers: ['Content-Type: application/dicom', 'Content-Length: 300'], body: Buffer.alloc(300, 0x61) },
      { headers: ['Content-Type: application/dicom'], body: Buffer.concat([allBytes, Buffer.alloc(70_000, 0x62)]) },
      { headers: ['Content-Type: application/dicom', 'Content-Length: 999999'], body: Buffer.from('declared length wrong: still read to the delimiter') },
    ];
    const data = encode(parts);
    for (const size of [1, 7, 64, 4096]) {
      const reused = Buffer.alloc(size);
      const parser = new MultipartParser(BOUNDARY);
      const out: MultipartPart[] = [];
      for (let i = 0; i < data.length; i += size) {
        const n = data.copy(reused, 0, i, Math.min(i + size, data.length));
        out.push(...parser.push(reused.subarray(0, n)));
        reused.fill(0x7e); // a reader would overwrite it with the next read
      }
      parser.end();
      expectParts(out, parts, `reused buffer of ${size} bytes`);
    }
  });

  it('with reuseBodies, writes later parts into the bodies handed back, and only into those', () => {
    // Instances of nearly the same size, as in a CT series; the last declares no length.
    const bodies = [70_000, 70_010, 69_990, 70_005, 100].map((n, k) => Buffer.alloc(n, k + 1));
    const data = encode(bodies.map((body, k) => ({ headers: ['Content-Type: application/dicom', ...(k < 4 ? [`Content-Length: ${body.length}`] : [])], body })));
    const parser = new MultipartParser(BOUNDARY, { reuseBodies: true });
    const contents: Buffer[] = [];
    const memory: ArrayBufferLike[] = [];
    for (let start = 0; start < data.length; start += 4096) {
      for (const part of parser.push(Buffer.from(data.subarray(start, start + 4096)))) {
        const k = contents.length;
        contents.push(Buffer.from(part.body));
        memory.push(part.body.buffer);
        // Parts 0 and 2 are handed back; part 1 only as a copy, which is not the parser's memory.
        if (k === 0 || k === 2) parser.reuse(part.body);
        if (k === 1) parser.reuse(Buffer.from(part.body));
      }
    }
    parser.end();
    expect(contents).to.deep.equal(bodies);
    // Part 1 began before part 0 was handed back; part 2 after, so it reuses part 0's memory.
    expect(memory[1]).not.to.equal(memory[0]);
    expect(memory[2]).to.equal(memory[0]);
    expect(memory[3]).not.to.be.oneOf([memory[0], memory[1]]);
    expect(memory[4]).to.equal(memory[2]);
  });

  it('every pair of cut points of a small two-part body', () => {
    const parts: Part[] = [
      { headers: ['Content-Type: application/dicom'], body: Buffer.from('ab\r\n--b0') },
      { headers: ['Content-Type: application/dicom'], body: Buffer.from('\r\ncd') },
    ];
    const data = encode(parts, { preamble: 'pre', epilogue: 'post' });
    for (let a = 0; a <= data.length; a++) {
      for (let b = a; b <= data.length; b++) expectParts(parseChunked(data, [a, b]), parts, `cuts at ${a},${b}`);
    }
  });

  it('hands out each part as soon as its delimiter has arrived, before the rest of the body', () => {
    const parts: Part[] = [
      { headers: ['Content-Type: application/dicom'], body: Buffer.from('first') },
      { headers: ['Content-Type: application/dicom'], body: Buffer.alloc(10_000, 7) },
    ];
    const data = encode(parts);
    const firstEnd = data.indexOf('\r\n--' + BOUNDARY, 10) + ('\r\n--' + BOUNDARY).length;
    const parser = new MultipartParser(BOUNDARY);
    const early = parser.push(data.subarray(0, firstEnd));
    expect(early.map((p) => p.body.toString())).to.deep.equal(['first']);
    expect(parser.complete).to.equal(false);
    const late = parser.push(data.subarray(firstEnd));
    expect(late).to.have.length(1);
    expect(parser.complete).to.equal(true);
    expect(parser.parts).to.equal(2);
  });

  it('a body cut off before its close delimiter is a TransientError (truncated transfer)', () => {
    const data = encode([{ headers: ['Content-Type: application/dicom'], body: Buffer.from('payload') }]);
    for (const cut of [0, 5, data.length - 20, data.length - 2]) {
      const parser = new MultipartParser(BOUNDARY);
      parser.push(data.subarray(0, cut));
      expect(() => parser.end(), `cut at ${cut}`).to.throw(TransientError, /close delimiter/);
    }
  });

  it('bytes other than padding after a boundary are a PermanentError', () => {
    const parser = new MultipartParser(BOUNDARY);
    expect(() => parser.push(Buffer.from(`--${BOUNDARY}xyz\r\nContent-Type: a\r\n\r\nbody\r\n--${BOUNDARY}--`))).to.throw(PermanentError, /after a boundary/);
  });

  it('a header line without a colon is a PermanentError', () => {
    const parser = new MultipartParser(BOUNDARY);
    expect(() => parser.push(Buffer.from(`--${BOUNDARY}\r\nnot a header\r\n\r\nbody\r\n--${BOUNDARY}--`))).to.throw(PermanentError, /header/);
  });

  it('unfolds obsolete folded header lines and lower-cases names', () => {
    expect(parseHeaderBlock('Content-Type: application/dicom;\r\n transfer-syntax=1.2.3\r\nCONTENT-LOCATION: /a')).to.deep.equal({
      'content-type': 'application/dicom; transfer-syntax=1.2.3',
      'content-location': '/a',
    });
  });
});

describe('dicomweb/multipart: boundary from Content-Type', () => {
  const rows: Array<[string, string, string]> = [
    ['multipart/related; type="application/dicom"; boundary=abc', 'abc', 'plain token'],
    ['multipart/related; boundary="a b:c"; type=application/dicom', 'a b:c', 'quoted, with characters outside a token'],
    ['Multipart/Related;BOUNDARY=XyZ', 'XyZ', 'names case-insensitive, value kept as is'],
    ['multipart/related; type="application/dicom; transfer-syntax=*"; boundary=q1', 'q1', 'a semicolon inside a quoted parameter'],
  ];
  for (const [contentType, boundary, why] of rows) {
    it(`${why}: ${contentType}`, () => expect(boundaryFromContentType(contentType)).to.equal(boundary));
  }
  it('refuses a non-multipart type, a missing boundary, and an absurdly long one', () => {
    expect(() => boundaryFromContentType('application/dicom+json')).to.throw(PermanentError);
    expect(() => boundaryFromContentType('multipart/related; type=application/dicom')).to.throw(PermanentError);
    expect(() => boundaryFromContentType(`multipart/related; boundary=${'x'.repeat(201)}`)).to.throw(PermanentError);
    expect(() => boundaryFromContentType(undefined)).to.throw(PermanentError);
  });
});
