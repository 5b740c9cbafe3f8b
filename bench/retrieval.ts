/**
 * Retrieval benchmark (issue 3, part 10), against a real Orthanc started for the run:
 * - WADO-RS of an 80-slice 512x512 CT series (42 MB multipart), explicit VR little endian:
 *   curl (the baseline: what the server and loopback can do), our client retrieve + parse, our
 *   client + HU volume assembly, and dicomweb-client with the xhr2 polyfill (for the decisions
 *   record). Repetitions are interleaved; medians are reported.
 * - STOW-RS of the same series: our client vs curl without `Expect:`.
 * - Peak RSS of a separate process retrieving and assembling two 200-slice 512x512 series at
 *   once, against the size of their two HU volumes.
 */
import { TRANSFER_SYNTAX } from '../src/dicom/dictionary';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDicomWebClient, type DicomWebClientHandle } from '../src/dicomweb/client';
import { stowRequestBody } from '../src/dicomweb/stow';
import { retrieveSeriesVolume, retrieveVolume } from '../src/study/retrieveVolume';
import { summarizeSeries } from '../src/study/seriesSummary';
import { startOrthanc, type OrthancInstance } from '../test/harness/orthanc';
import { makeSimpleCtSeries, type SimpleCtSeries } from '../test/harness/simpleCtSeries';
import { median, type BenchContext, type BenchModule, type Figure } from './benchModule';

const run = promisify(execFile);
const ACCEPT = `multipart/related; type="application/dicom"; transfer-syntax=${TRANSFER_SYNTAX.explicitVrLittleEndian}`;
const REPETITIONS = 9;
const DICOMWEB_CLIENT_REPETITIONS = 3;

async function timeMs(task: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await task();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Wall time and this process's CPU time (user + system) of a task, in ms. */
async function timeWithCpuMs(task: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpuBefore = process.cpuUsage();
  const wall = await timeMs(task);
  const cpu = process.cpuUsage(cpuBefore);
  return { wall, cpu: (cpu.user + cpu.system) / 1000 };
}

async function curlRetrieveMs(orthanc: OrthancInstance, series: SimpleCtSeries): Promise<number> {
  const url = `${orthanc.dicomWebUrl}/studies/${series.studyInstanceUID}/series/${series.seriesInstanceUID}`;
  const { stdout } = await run('curl', ['-s', '-f', '-o', '/dev/null', '-w', '%{time_total} %{size_download}', '-H', `Accept: ${ACCEPT}`, '-H', `Authorization: ${orthanc.authorization}`, url]);
  const [seconds, bytes] = stdout.trim().split(' ').map(Number);
  if (!(bytes > 0)) throw new Error('curl downloaded nothing');
  return seconds * 1000;
}

async function curlStowMs(orthanc: OrthancInstance, file: string, contentType: string): Promise<number> {
  const { stdout } = await run('curl', [
    '-s',
    '-f',
    '-o',
    '/dev/null',
    '-w',
    '%{time_total}',
    '-H',
    'Expect:',
    '-H',
    `Content-Type: ${contentType}`,
    '-H',
    'Accept: application/dicom+json',
    '-H',
    `Authorization: ${orthanc.authorization}`,
    '--data-binary',
    `@${file}`,
    `${orthanc.dicomWebUrl}/studies`,
  ]);
  return Number(stdout.trim()) * 1000;
}

async function deleteSeries(orthanc: OrthancInstance, series: SimpleCtSeries): Promise<void> {
  const found = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', series.seriesInstanceUID);
  for (const match of found) await orthanc.rest('DELETE', `/series/${match.ID}`);
}

async function dicomwebClientRetrieveMs(orthanc: OrthancInstance, series: SimpleCtSeries): Promise<number> {
  /* eslint-disable @typescript-eslint/no-require-imports -- the polyfill is CommonJS and untyped */
  (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest ??= require('xhr2') as unknown;
  // Only what is used here; the package's own typings make optional options mandatory.
  const { api } = require('dicomweb-client') as {
    api: {
      DICOMwebClient: new (options: { url: string; headers: Record<string, string> }) => {
        retrieveSeries(options: { studyInstanceUID: string; seriesInstanceUID: string }): Promise<ArrayBuffer[]>;
      };
    };
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const client = new api.DICOMwebClient({ url: orthanc.dicomWebUrl, headers: { Authorization: orthanc.authorization } });
  return timeMs(async () => {
    const instances = await client.retrieveSeries({ studyInstanceUID: series.studyInstanceUID, seriesInstanceUID: series.seriesInstanceUID });
    if (instances.length !== series.instances.length) throw new Error(`dicomweb-client returned ${instances.length} instances`);
  });
}

/** Peak RSS of a child process that retrieves two series into HU volumes at once. */
function peakRssChild(orthanc: OrthancInstance, first: SimpleCtSeries, second: SimpleCtSeries): Promise<{ maxRssBytes: number; rssBeforeBytes: number; huBytes: number; ms: number }> {
  const isTs = __filename.endsWith('.ts');
  const child = path.join(__dirname, isTs ? 'retrievalRssChild.ts' : 'retrievalRssChild.js');
  const args = isTs ? ['--require', require.resolve('tsx/cjs'), child] : [child];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, {
      env: {
        ...process.env,
        BENCH_DICOMWEB_URL: orthanc.dicomWebUrl,
        BENCH_USERNAME: orthanc.username,
        BENCH_PASSWORD: orthanc.password,
        BENCH_SERIES: JSON.stringify([first, second].map((one) => [one.studyInstanceUID, one.seriesInstanceUID])),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.once('close', (code) => {
      if (code !== 0) reject(new Error(`RSS child failed with code ${code}`));
      else resolve(JSON.parse(stdout) as { maxRssBytes: number; rssBeforeBytes: number; huBytes: number; ms: number });
    });
  });
}

/** Samples of the interleaved WADO-RS repetitions, in ms. */
interface WadoRsSamples {
  curl: number[];
  parse: number[];
  parseCpu: number[];
  parseNodeHttp: number[];
  hu: number[];
  huCpu: number[];
  huWithMetadata: number[];
}

interface StowSamples {
  ours: number[];
  curl: number[];
}

type PeakRss = Awaited<ReturnType<typeof peakRssChild>>;

/** Our DICOMweb client, the same one reading the stream with node:http, and the Orthanc they talk to. */
interface Clients {
  orthanc: OrthancInstance;
  client: DicomWebClientHandle;
  nodeHttpClient: DicomWebClientHandle;
}

function mebibytes(bytes: number): number {
  return bytes / 2 ** 20;
}

/**
 * STOW-RS: ours stores `series`, curl stores `other` (same size), each deleted between runs so
 * that every store really writes. `series` stays stored for the WADO-RS runs.
 */
async function measureStow(context: BenchContext, clients: Clients, series: SimpleCtSeries, other: SimpleCtSeries, tmp: string): Promise<StowSamples> {
  const { orthanc, client } = clients;
  const body = stowRequestBody(other.instances.map((instance) => instance.part10));
  const bodyFile = path.join(tmp, 'stow.bin');
  writeFileSync(bodyFile, Buffer.concat(body.chunks));
  const stow: StowSamples = { ours: [], curl: [] };
  for (let i = 0; i < 3; i++) {
    stow.curl.push(await curlStowMs(orthanc, bodyFile, body.contentType));
    await deleteSeries(orthanc, other);
    stow.ours.push(await timeMs(() => client.store(series.instances.map((instance) => instance.part10))));
    if (i < 2) await deleteSeries(orthanc, series);
  }
  context.log(`STOW ${seriesMegabytes(series).toFixed(1)} MB: ours ${median(stow.ours).toFixed(0)} ms, curl ${median(stow.curl).toFixed(0)} ms`);
  return stow;
}

/** WADO-RS of the stored series: curl, our client (parse, HU, HU with metadata), node:http; interleaved. */
async function measureWadoRs(context: BenchContext, clients: Clients, series: SimpleCtSeries): Promise<WadoRsSamples> {
  const { orthanc, client, nodeHttpClient } = clients;
  const metadata = await client.retrieveSeriesMetadata(series.studyInstanceUID, series.seriesInstanceUID);
  const summary = summarizeSeries({ '0020000D': { vr: 'UI', Value: [series.studyInstanceUID] }, '0020000E': { vr: 'UI', Value: [series.seriesInstanceUID] } }, metadata);
  const samples: WadoRsSamples = { curl: [], parse: [], parseCpu: [], parseNodeHttp: [], hu: [], huCpu: [], huWithMetadata: [] };
  let parts = 0;
  const retrieveParse = (): Promise<unknown> =>
    client.retrieveSeries(series.studyInstanceUID, series.seriesInstanceUID, (part) => {
      parts += part.body.length > 0 ? 1 : 0;
    });
  // Warm-up: Orthanc's cache, our keep-alive connection, V8's JIT.
  await curlRetrieveMs(orthanc, series);
  await retrieveParse();
  await nodeHttpClient.retrieveSeries(series.studyInstanceUID, series.seriesInstanceUID, () => undefined);
  await retrieveVolume(client, summary);
  for (let i = 0; i < REPETITIONS; i++) {
    samples.curl.push(await curlRetrieveMs(orthanc, series));
    parts = 0;
    const parseTiming = await timeWithCpuMs(retrieveParse);
    samples.parse.push(parseTiming.wall);
    samples.parseCpu.push(parseTiming.cpu);
    if (parts !== 80) throw new Error(`expected 80 parts, got ${parts}`);
    samples.parseNodeHttp.push(await timeMs(() => nodeHttpClient.retrieveSeries(series.studyInstanceUID, series.seriesInstanceUID, () => undefined)));
    const huTiming = await timeWithCpuMs(() => retrieveVolume(client, summary));
    samples.hu.push(huTiming.wall);
    samples.huCpu.push(huTiming.cpu);
    samples.huWithMetadata.push(await timeMs(() => retrieveSeriesVolume(client, series.studyInstanceUID, series.seriesInstanceUID)));
  }
  context.log(
    `WADO-RS medians: curl ${median(samples.curl).toFixed(0)} ms, parse ${median(samples.parse).toFixed(0)} ms (CPU ${median(samples.parseCpu).toFixed(0)}), HU ${median(samples.hu).toFixed(0)} ms (CPU ${median(samples.huCpu).toFixed(0)})`,
  );
  return samples;
}

/** WADO-RS of the same series with dicomweb-client and xhr2, after one warm-up. */
async function measureDicomwebClient(context: BenchContext, orthanc: OrthancInstance, series: SimpleCtSeries): Promise<number[]> {
  const samples: number[] = [];
  await dicomwebClientRetrieveMs(orthanc, series);
  for (let i = 0; i < DICOMWEB_CLIENT_REPETITIONS; i++) samples.push(await dicomwebClientRetrieveMs(orthanc, series));
  context.log(`dicomweb-client median ${median(samples).toFixed(0)} ms`);
  return samples;
}

/** Peak RSS of a child retrieving two freshly stored 200-slice series at once (`other` is deleted first). */
async function measurePeakRss(context: BenchContext, clients: Clients, other: SimpleCtSeries): Promise<PeakRss> {
  const { orthanc, client } = clients;
  await deleteSeries(orthanc, other);
  context.log('generating and storing two 200-slice 512x512 series');
  const big: SimpleCtSeries[] = [];
  for (const seed of ['bench-200-a', 'bench-200-b']) {
    const generated = makeSimpleCtSeries({ seed, rows: 512, columns: 512, slices: 200 });
    await client.store(generated.instances.map((instance) => instance.part10));
    big.push({ ...generated, instances: generated.instances.map((instance) => ({ sopInstanceUID: instance.sopInstanceUID, part10: Buffer.alloc(0) })) });
  }
  const rss = await peakRssChild(orthanc, big[0], big[1]);
  context.log(
    `two 200-slice series: peak RSS ${mebibytes(rss.maxRssBytes).toFixed(0)} MiB (before ${mebibytes(rss.rssBeforeBytes).toFixed(0)}), HU volumes ${mebibytes(rss.huBytes).toFixed(0)} MiB, ${rss.ms.toFixed(0)} ms`,
  );
  return rss;
}

function seriesMegabytes(series: SimpleCtSeries): number {
  return series.instances.reduce((total, instance) => total + instance.part10.length, 0) / 1e6;
}

/** The WADO-RS figures, each against curl's median where it is a retrieval time. */
function wadoRsFigures(sizeMb: number, wado: WadoRsSamples, dicomwebClient: number[]): Figure[] {
  const curlMedian = median(wado.curl);
  const againstCurl = { name: 'curl', value: curlMedian };
  return [
    { id: 'wadors_80_curl_ms', name: `WADO-RS 80x512x512 (${sizeMb.toFixed(0)} MB), curl`, value: curlMedian, unit: 'ms', samples: wado.curl },
    { id: 'wadors_80_retrieve_parse_ms', name: 'WADO-RS 80 slices: our client, retrieve + multipart parse', value: median(wado.parse), unit: 'ms', baseline: againstCurl, samples: wado.parse },
    {
      id: 'wadors_80_retrieve_hu_ms',
      name: 'WADO-RS 80 slices: our client, retrieve + parse + HU assembly',
      value: median(wado.hu),
      unit: 'ms',
      baseline: againstCurl,
      goal: '<= 4x curl',
      samples: wado.hu,
    },
    {
      id: 'wadors_80_retrieve_parse_node_http_ms',
      name: 'same, reading the stream with node:http instead of the socket reader',
      value: median(wado.parseNodeHttp),
      unit: 'ms',
      baseline: againstCurl,
      samples: wado.parseNodeHttp,
    },
    { id: 'wadors_80_retrieve_parse_cpu_ms', name: 'CPU time of the node for retrieve + parse (user + system)', value: median(wado.parseCpu), unit: 'ms', samples: wado.parseCpu },
    { id: 'wadors_80_retrieve_hu_cpu_ms', name: 'CPU time of the node for retrieve + parse + HU', value: median(wado.huCpu), unit: 'ms', samples: wado.huCpu },
    {
      id: 'wadors_80_metadata_retrieve_hu_ms',
      name: 'same, with the WADO-RS metadata request and volume planning',
      value: median(wado.huWithMetadata),
      unit: 'ms',
      baseline: againstCurl,
      samples: wado.huWithMetadata,
    },
    { id: 'wadors_80_dicomweb_client_ms', name: 'WADO-RS 80 slices: dicomweb-client + xhr2 (replaced)', value: median(dicomwebClient), unit: 'ms', baseline: againstCurl, samples: dicomwebClient },
  ];
}

function stowAndRssFigures(sizeMb: number, stow: StowSamples, rss: PeakRss): Figure[] {
  return [
    {
      id: 'stow_80_ms',
      name: `STOW-RS 80 slices (${sizeMb.toFixed(0)} MB): our client`,
      value: median(stow.ours),
      unit: 'ms',
      baseline: { name: 'curl, no Expect', value: median(stow.curl) },
      samples: stow.ours,
    },
    {
      id: 'retrieve_two_200_peak_rss_mb',
      name: 'peak RSS, two 200x512x512 series retrieved into HU at once',
      value: mebibytes(rss.maxRssBytes),
      unit: 'MiB',
      baseline: { name: 'their two float32 HU volumes', value: mebibytes(rss.huBytes) },
      goal: '< 3x the HU volumes',
    },
  ];
}

async function runRetrieval(context: BenchContext): Promise<Figure[]> {
  const orthanc = await startOrthanc({ stableAgeSeconds: 3600 });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsr-bench-'));
  const credentials = { dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password };
  const clients: Clients = {
    orthanc,
    client: createDicomWebClient(credentials),
    // The same client with node:http reading the stream, for the decisions record.
    nodeHttpClient: createDicomWebClient(credentials, { streamReader: 'node-http' }),
  };
  try {
    context.log('generating two 80-slice 512x512 series');
    const series = makeSimpleCtSeries({ seed: 'bench-80', rows: 512, columns: 512, slices: 80 });
    const other = makeSimpleCtSeries({ seed: 'bench-80-curl', rows: 512, columns: 512, slices: 80 });
    const sizeMb = seriesMegabytes(series);
    const stow = await measureStow(context, clients, series, other, tmp);
    const wado = await measureWadoRs(context, clients, series);
    const dicomwebClient = await measureDicomwebClient(context, orthanc, series);
    const rss = await measurePeakRss(context, clients, other);
    return [...wadoRsFigures(sizeMb, wado, dicomwebClient), ...stowAndRssFigures(sizeMb, stow, rss)];
  } finally {
    clients.client.close();
    clients.nodeHttpClient.close();
    await orthanc.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const retrievalBench: BenchModule = { name: 'retrieval', run: runRetrieval };
