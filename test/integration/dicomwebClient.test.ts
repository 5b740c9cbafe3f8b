/**
 * The DICOMweb client against a real Orthanc 1.10 + DICOMweb plugin 1.7: STOW-RS, QIDO-RS,
 * WADO-RS metadata and streamed retrieval, the JPEG 2000 fallback, error mapping, retries and
 * TLS with a custom CA. Local HTTP servers appear only where a test needs a server to misbehave
 * on purpose (stall, count connections, hold a response back); none of them stands in for a PACS.
 */
import { TRANSFER_SYNTAX } from '../../src/dicom/dictionary';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { createDicomWebClient, type DicomWebClientHandle, type DicomWebClientOptions } from '../../src/dicomweb/client';
import { jsonString, jsonNumber } from '../../src/dicomweb/dicomJson';
import { httpStatusOf } from '../../src/dicomweb/httpTransport';
import { readPart10Meta } from '../../src/dicomweb/part10';
import type { RetrievedPart } from '../../src/dicomweb/types';
import { AnalysisRefusedError, PermanentError, TransientError } from '../../src/errors';
import { freePort, startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries, expectedPixel } from '../harness/simpleCtSeries';
import { makeTestCertificates } from '../harness/tlsCertificates';

const J2K_FILE = path.join(__dirname, '../fixtures/realdata/pydicom-data/693_J2KR.dcm');
const JPEG2000_LOSSLESS = '1.2.840.10008.1.2.4.90';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A backoff sleep that records its delays and does not wait. */
function recordSleep(into: number[]): (ms: number) => Promise<void> {
  return (ms) => {
    into.push(ms);
    return Promise.resolve();
  };
}

function listen(server: http.Server | net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

describe('dicomweb/client against a real Orthanc', function () {
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;
  let options: DicomWebClientOptions;
  const series = makeSimpleCtSeries({ seed: 'client-test', rows: 64, columns: 48, slices: 20, seriesDescription: 'CTA arterial' });
  let j2k: { study: string; series: string; sop: string };

  before(async () => {
    orthanc = await startOrthanc();
    options = { dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password, requestBackoffMs: 1 };
    client = createDicomWebClient(options);
    const meta = readPart10Meta(readFileSync(J2K_FILE));
    const tags = await orthanc.rest<{ ParentStudy: string; ParentSeries: string; ID: string }>('POST', '/instances', readFileSync(J2K_FILE));
    const main = await orthanc.rest<{ MainDicomTags: Record<string, string> }>('GET', `/studies/${tags.ParentStudy}`);
    const ser = await orthanc.rest<{ MainDicomTags: Record<string, string> }>('GET', `/series/${tags.ParentSeries}`);
    j2k = { study: main.MainDicomTags.StudyInstanceUID, series: ser.MainDicomTags.SeriesInstanceUID, sop: meta?.sopInstanceUID ?? '' };
  });
  after(async () => {
    client?.close();
    await orthanc?.stop();
  });

  it('STOW-RS stores a series in one request and reads the response dataset', async () => {
    const result = await client.store(
      series.instances.map((i) => i.part10),
      series.studyInstanceUID,
    );
    expect(result.httpStatus).to.equal(200);
    expect(result.failed).to.deep.equal([]);
    expect(result.referenced.map((r) => r.sopInstanceUID)).to.have.members(series.instances.map((i) => i.sopInstanceUID));
    expect(result.referenced[0].retrieveURL).to.match(/^http:\/\/127\.0\.0\.1:\d+\/dicom-web\/studies\//);
  });

  it('QIDO-RS finds the study, its series with included fields, and its instances', async () => {
    const studies = await client.searchStudies({ StudyInstanceUID: series.studyInstanceUID });
    expect(studies.map((s) => jsonString(s, '0020000D'))).to.deep.equal([series.studyInstanceUID]);
    const found = await client.searchSeries(series.studyInstanceUID, ['0008103E', '00180050', '00200037']);
    expect(found).to.have.length(1);
    expect(jsonString(found[0], '0020000E')).to.equal(series.seriesInstanceUID);
    expect(jsonString(found[0], '0008103E')).to.equal('CTA arterial');
    expect(jsonNumber(found[0], '00180050')).to.equal(2.5);
    const instances = await client.searchInstances(series.studyInstanceUID, series.seriesInstanceUID);
    expect(instances).to.have.length(20);
    // Wildcards are sent literally and match (Orthanc 1.7 would match nothing if they were encoded).
    const wildcard = await client.searchStudies({ StudyInstanceUID: series.studyInstanceUID, ModalitiesInStudy: 'C*' });
    expect(wildcard).to.have.length(1);
    expect(await client.searchStudies({ StudyInstanceUID: '1.2.3.4.5' })).to.deep.equal([]);
  });

  it('WADO-RS metadata returns one dataset per instance', async () => {
    const metadata = await client.retrieveSeriesMetadata(series.studyInstanceUID, series.seriesInstanceUID);
    expect(metadata).to.have.length(20);
    expect(metadata.map((m) => jsonNumber(m, '00280010'))).to.satisfy((rows: number[]) => rows.every((r) => r === 64));
  });

  it('WADO-RS streams each instance to onPart, one at a time, with the pixel data intact', async () => {
    const parts: RetrievedPart[] = [];
    let active = 0;
    let maxActive = 0;
    const summary = await client.retrieveSeries(series.studyInstanceUID, series.seriesInstanceUID, async (part) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 2));
      parts.push(part);
      active--;
    });
    expect(summary.parts).to.equal(20);
    expect(summary.transferSyntaxRequested).to.equal(TRANSFER_SYNTAX.explicitVrLittleEndian);
    expect(summary.fallbackFrom).to.equal(undefined);
    expect(summary.bytes).to.equal(parts.reduce((s, p) => s + p.body.length, 0));
    expect(maxActive, 'onPart calls never overlap').to.equal(1);
    const bySop = new Map(series.instances.map((i, k) => [i.sopInstanceUID, k]));
    for (const part of parts) {
      expect(part.contentType).to.match(/^application\/dicom/);
      expect(part.transferSyntaxUID).to.equal(TRANSFER_SYNTAX.explicitVrLittleEndian);
      const k = bySop.get(readPart10Meta(part.body)?.sopInstanceUID ?? '');
      expect(k, 'part is one of the stored instances').to.be.a('number');
      // Pixel Data is the last element: its bytes end the part.
      const pixels = new Int16Array(64 * 48);
      for (let j = 0; j < 64; j++) for (let i = 0; i < 48; i++) pixels[j * 48 + i] = expectedPixel(i, j, k as number);
      expect(part.body.subarray(part.body.length - pixels.byteLength).equals(Buffer.from(pixels.buffer))).to.equal(true);
    }
  });

  it('both readers (socket, node:http) deliver the same parts', async () => {
    const bodies = async (streamReader: 'socket' | 'node-http'): Promise<Buffer[]> => {
      const c = createDicomWebClient(options, { streamReader });
      const out: Buffer[] = [];
      await c.retrieveSeries(series.studyInstanceUID, series.seriesInstanceUID, (part) => void out.push(part.body));
      c.close();
      return out;
    };
    const [socket, nodeHttp] = await Promise.all([bodies('socket'), bodies('node-http')]);
    expect(socket).to.have.length(20);
    expect(socket.every((b, i) => b.equals(nodeHttp[i]))).to.equal(true);
  });

  it("onPart's own error ends the retrieval as it is (not wrapped, not retried)", async () => {
    const refusal = new AnalysisRefusedError('slice-gap', 'a slice is missing');
    let calls = 0;
    const err = await rejection(
      client.retrieveSeries(series.studyInstanceUID, series.seriesInstanceUID, () => {
        calls++;
        if (calls === 3) throw refusal;
      }),
    );
    expect(err).to.equal(refusal);
    expect(calls).to.equal(3);
  });

  it('retrieves one instance', async () => {
    const sop = series.instances[3].sopInstanceUID;
    const part = await client.retrieveInstance(series.studyInstanceUID, series.seriesInstanceUID, sop);
    expect(readPart10Meta(part.body)?.sopInstanceUID).to.equal(sop);
  });

  it('JPEG 2000: Orthanc answers 500 to explicit little endian, and the client falls back to the stored syntax', async () => {
    const parts: RetrievedPart[] = [];
    const summary = await client.retrieveSeries(j2k.study, j2k.series, (p) => void parts.push(p));
    expect(summary.fallbackFrom?.transferSyntax).to.equal(TRANSFER_SYNTAX.explicitVrLittleEndian);
    expect(summary.fallbackFrom?.reason).to.match(/HTTP 500/);
    expect(summary.transferSyntaxRequested).to.equal('*');
    expect(parts).to.have.length(1);
    expect(parts[0].transferSyntaxUID).to.equal(JPEG2000_LOSSLESS);
    expect(readPart10Meta(parts[0].body)?.sopInstanceUID).to.equal(j2k.sop);
    const single = await client.retrieveInstance(j2k.study, j2k.series, j2k.sop);
    expect(single.transferSyntaxUID).to.equal(JPEG2000_LOSSLESS);
  });

  it('without the fallback, the 500 is retried with backoff and ends in a TransientError', async () => {
    const sleeps: number[] = [];
    const strict = createDicomWebClient({ ...options, requestAttempts: 3, requestBackoffMs: 5 }, { sleep: recordSleep(sleeps) });
    const err = await rejection(strict.retrieveSeries(j2k.study, j2k.series, () => undefined, { fallbackToStored: false }));
    strict.close();
    expect(err).to.be.instanceOf(TransientError);
    expect(httpStatusOf(err)).to.equal(500);
    expect(sleeps, 'exponential backoff between the 3 attempts').to.deep.equal([5, 10]);
  });

  it('wrong credentials are a PermanentError at once, without retries', async () => {
    const sleeps: number[] = [];
    const wrong = createDicomWebClient({ ...options, password: 'wrong' }, { sleep: recordSleep(sleeps) });
    const err = await rejection(wrong.searchStudies());
    wrong.close();
    expect(err).to.be.instanceOf(PermanentError);
    expect(err.message).to.match(/credentials/);
    expect(httpStatusOf(err)).to.equal(401);
    expect(sleeps).to.deep.equal([]);
  });

  it('an unknown series is a PermanentError (404), not retried', async () => {
    const err = await rejection(client.retrieveSeriesMetadata(series.studyInstanceUID, '1.2.3.999'));
    expect(err).to.be.instanceOf(PermanentError);
    expect(httpStatusOf(err)).to.equal(404);
  });

  it('a UID that is not a UID never reaches the URL', async () => {
    const err = await rejection(client.retrieveSeriesMetadata('../../system', '1.2'));
    expect(err).to.be.instanceOf(PermanentError);
    expect(err.message).to.match(/not a DICOM UID/);
  });

  it('STOW-RS: an object Orthanc silently drops makes the store fail, with the count', async () => {
    const other = makeSimpleCtSeries({ seed: 'stow-partial', slices: 1 });
    const err = await rejection(client.store([other.instances[0].part10, Buffer.from('not DICOM at all')]));
    expect(err).to.be.instanceOf(PermanentError);
    expect(err.message).to.match(/sent 2 object\(s\), 1 stored/);
  });

  it('STOW-RS: an instance refused by the server fails with its FailureReason', async () => {
    const other = makeSimpleCtSeries({ seed: 'stow-wrong-study', slices: 1 });
    // Posting to another study's URL: Orthanc refuses the instance (PS3.18 10.5.1).
    const err = await rejection(client.store([other.instances[0].part10], '1.2.3.4'));
    expect(err).to.be.instanceOf(PermanentError);
    expect(err.message).to.include(other.instances[0].sopInstanceUID);
    expect(err.message).to.match(/failed: 0110H processing failure/);
  });

  it('a refused connection is a TransientError after every attempt', async () => {
    const port = await freePort();
    const sleeps: number[] = [];
    const down = createDicomWebClient({ dicomWebUrl: `http://127.0.0.1:${port}/dicom-web`, requestAttempts: 4, requestBackoffMs: 100 }, { sleep: recordSleep(sleeps) });
    const err = await rejection(down.searchStudies());
    down.close();
    expect(err).to.be.instanceOf(TransientError);
    expect(err.message).to.match(/ECONNREFUSED/);
    expect(sleeps).to.deep.equal([100, 200, 400]);
  });

  it('a server that accepts and never answers is a TransientError after the timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => void sockets.push(s));
    const port = await listen(silent);
    const slow = createDicomWebClient({ dicomWebUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 150, requestAttempts: 2, requestBackoffMs: 1 });
    const err = await rejection(slow.searchStudies());
    slow.close();
    sockets.forEach((s) => s.destroy());
    silent.close();
    expect(err).to.be.instanceOf(TransientError);
    expect(err.message).to.match(/no answer from the PACS for 150 ms/);
    expect(sockets.length, 'two attempts').to.equal(2);
  });

  it('a server that answers 503 then recovers: the request succeeds on a later attempt', async () => {
    let calls = 0;
    const flaky = http.createServer((req, res) => {
      calls++;
      if (calls < 3) {
        res.writeHead(503).end('busy');
        return;
      }
      // Then pass the request on to the real Orthanc.
      const upstream = http.request(orthanc.dicomWebUrl + req.url, { headers: { ...req.headers, host: `127.0.0.1:${orthanc.port}` } }, (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        u.pipe(res);
      });
      upstream.end();
    });
    const port = await listen(flaky);
    const c = createDicomWebClient({ ...options, dicomWebUrl: `http://127.0.0.1:${port}`, requestAttempts: 3 });
    const studies = await c.searchStudies({ StudyInstanceUID: series.studyInstanceUID });
    c.close();
    flaky.close();
    expect(calls).to.equal(3);
    expect(studies).to.have.length(1);
  });

  describe('streamed retrieval when the server misbehaves (socket reader)', () => {
    const boundary = 'mis';
    const part = (body: string): string => `--${boundary}\r\nContent-Type: application/dicom\r\n\r\n${body}\r\n`;
    async function withServer(handler: http.RequestListener, run: (url: string) => Promise<void>): Promise<void> {
      const server = http.createServer(handler);
      const port = await listen(server);
      try {
        await run(`http://127.0.0.1:${port}`);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    }

    it('a body cut off mid-way (Content-Length not reached) is a TransientError, parts before it delivered', async () => {
      await withServer(
        (_req, res) => {
          const body = part('one') + part('two');
          res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'Content-Length': String(body.length + 100) });
          res.write(body);
          setTimeout(() => res.socket?.destroy(), 20);
        },
        async (url) => {
          const c = createDicomWebClient({ dicomWebUrl: url, requestAttempts: 3, requestBackoffMs: 1 });
          const got: string[] = [];
          const err = await rejection(c.retrieveSeries('1.2', '3.4', (p) => void got.push(p.body.toString())));
          c.close();
          expect(err).to.be.instanceOf(TransientError);
          expect(err.message).to.match(/before the response was complete/);
          expect(got, 'the first part was complete; the second was still open').to.deep.equal(['one']);
        },
      );
    });

    it('a body that ends with the connection (no Content-Length, not chunked) is read to its end', async () => {
      const raw = net.createServer((socket) => {
        socket.once('data', () => {
          const body = part('first') + part('second') + `--${boundary}--`;
          socket.end(`HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type="application/dicom"; boundary=${boundary}\r\nConnection: close\r\n\r\n${body}`);
        });
      });
      const port = await listen(raw);
      const c = createDicomWebClient({ dicomWebUrl: `http://127.0.0.1:${port}` });
      const got: string[] = [];
      await c.retrieveSeries('1.2', '3.4', (p) => void got.push(p.body.toString()));
      c.close();
      raw.close();
      expect(got).to.deep.equal(['first', 'second']);
    });

    it('a server that stops sending mid-body is a TransientError after the timeout', async () => {
      await withServer(
        (_req, res) => {
          res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` });
          res.write(part('one'));
        },
        async (url) => {
          const c = createDicomWebClient({ dicomWebUrl: url, requestTimeoutMs: 200 });
          const err = await rejection(c.retrieveSeries('1.2', '3.4', () => undefined));
          c.close();
          expect(err).to.be.instanceOf(TransientError);
          expect(err.message).to.match(/no answer from the PACS for 200 ms/);
        },
      );
    });

    it('503 before the body is retried; then the series arrives', async () => {
      let calls = 0;
      await withServer(
        (_req, res) => {
          if (++calls === 1) {
            res.writeHead(503, { 'Content-Type': 'text/plain' }).end('busy');
            return;
          }
          const body = part('only') + `--${boundary}--`;
          res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`, 'Content-Length': String(body.length) });
          res.end(body);
        },
        async (url) => {
          const c = createDicomWebClient({ dicomWebUrl: url, requestBackoffMs: 1 });
          const got: string[] = [];
          const summary = await c.retrieveSeries('1.2', '3.4', (p) => void got.push(p.body.toString()));
          c.close();
          expect(calls).to.equal(2);
          expect(got).to.deep.equal(['only']);
          expect(summary.parts).to.equal(1);
        },
      );
    });

    it('an aborted retrieval stops with the abort reason, not a PACS error', async () => {
      await withServer(
        (_req, res) => {
          res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` });
          res.write(part('one'));
        },
        async (url) => {
          const c = createDicomWebClient({ dicomWebUrl: url, requestTimeoutMs: 5000 });
          const controller = new AbortController();
          const reason = Object.assign(new Error('the worker is stopping'), { name: 'AbortError' });
          setTimeout(() => controller.abort(reason), 50);
          const err = await rejection(c.retrieveSeries('1.2', '3.4', () => undefined, { signal: controller.signal }));
          c.close();
          expect(err).to.equal(reason);
        },
      );
    });
  });

  it('bounds concurrent requests with retrieveConcurrency', async () => {
    let active = 0;
    let maxActive = 0;
    const counting = http.createServer((_req, res) => {
      active++;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        active--;
        res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]');
      }, 30);
    });
    const port = await listen(counting);
    const c = createDicomWebClient({ dicomWebUrl: `http://127.0.0.1:${port}`, retrieveConcurrency: 2 });
    const results = await Promise.all(Array.from({ length: 7 }, () => c.searchStudies()));
    c.close();
    counting.close();
    expect(results).to.have.length(7);
    expect(maxActive).to.equal(2);
  });

  it('sends a bearer token when one is configured, instead of basic auth', async () => {
    const seen: Array<string | undefined> = [];
    const recorder = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Type': 'application/dicom+json' }).end('[]');
    });
    const port = await listen(recorder);
    const c = createDicomWebClient({ dicomWebUrl: `http://127.0.0.1:${port}`, bearerToken: 'tok-123', username: 'u', password: 'p' });
    await c.searchStudies();
    c.close();
    recorder.close();
    expect(seen).to.deep.equal(['Bearer tok-123']);
  });

  it('hands a part over before the rest of the body exists, and pauses reading while onPart is busy', async () => {
    // The server writes the first part, then waits until the client has handed it to onPart
    // before writing more: a client that buffered the whole body would never get there.
    const boundary = 'bp-test';
    const big = Buffer.alloc(4 * 1024 * 1024, 0x41);
    let firstPartSeen!: () => void;
    const firstPartPromise = new Promise<void>((r) => (firstPartSeen = r));
    let releaseConsumer!: () => void;
    const consumerGate = new Promise<void>((r) => (releaseConsumer = r));
    let writtenWhileBlocked = 0;
    let blocked = true;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}` });
      res.write(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\nfirst\r\n--${boundary}`);
      void firstPartPromise.then(async () => {
        // 16 x 4 MB; while the consumer is blocked only socket buffers' worth may get through.
        for (let i = 0; i < 16; i++) {
          const chunk = Buffer.concat([Buffer.from(`\r\nContent-Type: application/dicom\r\n\r\n`), big, Buffer.from(`\r\n--${boundary}`)]);
          if (blocked) writtenWhileBlocked += chunk.length;
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        }
        res.end('--\r\n');
      });
    });
    const port = await listen(server);
    const c = createDicomWebClient({ dicomWebUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 500 });
    const sizes: number[] = [];
    const retrieval = c.retrieveSeries('1.2.3', '4.5.6', async (part) => {
      sizes.push(part.body.length);
      if (sizes.length === 1) {
        firstPartSeen();
        await consumerGate;
      }
    });
    await firstPartPromise;
    // Longer than the 500 ms inactivity limit: a paused consumer is not a dead server.
    await new Promise((r) => setTimeout(r, 800));
    blocked = false;
    releaseConsumer();
    const summary = await retrieval;
    c.close();
    server.close();
    expect(sizes[0]).to.equal(5);
    expect(summary.parts).to.equal(17);
    // 64 MB were waiting; only what fits in socket and stream buffers may have been written.
    expect(writtenWhileBlocked, 'bytes the server could write while onPart was blocked').to.be.below(24 * 1024 * 1024);
  });
});

describe('dicomweb/client over TLS with a custom CA (HTTPS reverse proxy in front of a real Orthanc)', function () {
  let orthanc: OrthancInstance;
  let proxy: https.Server;
  let caFile: string;
  let proxyUrl: string;
  before(async () => {
    const certs = makeTestCertificates();
    caFile = certs.caFile;
    orthanc = await startOrthanc();
    proxy = https.createServer({ key: certs.serverKeyPem, cert: certs.serverCertificatePem }, (req, res) => {
      const upstream = http.request(orthanc.url + req.url, { method: req.method, headers: req.headers }, (u) => {
        res.writeHead(u.statusCode ?? 502, u.headers);
        u.pipe(res);
      });
      req.pipe(upstream);
    });
    proxyUrl = `https://127.0.0.1:${await listen(proxy)}/dicom-web`;
  });
  after(async () => {
    proxy?.close();
    await orthanc?.stop();
  });

  it('trusts the server with caFile, and refuses it (PermanentError, no retry) without', async () => {
    const base = { dicomWebUrl: proxyUrl, username: orthanc.username, password: orthanc.password };
    const trusted = createDicomWebClient({ ...base, caFile });
    expect(await trusted.searchStudies()).to.deep.equal([]);
    trusted.close();
    const sleeps: number[] = [];
    const untrusted = createDicomWebClient(base, { sleep: recordSleep(sleeps) });
    const err = await rejection(untrusted.searchStudies());
    untrusted.close();
    expect(err).to.be.instanceOf(PermanentError);
    expect(err.message).to.match(/certificate/i);
    expect(sleeps).to.deep.equal([]);
  });
});
