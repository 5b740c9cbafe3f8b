/**
 * Retrieval into HU volumes against a real Orthanc: WADO-RS streamed into the volume assembly,
 * planned from WADO-RS metadata. Covers the J2K path (Orthanc 1.10 cannot transcode it: the
 * client falls back to `transfer-syntax=*` and the node decodes), and bad inputs that must end
 * in a specific reason.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { PROJECT_ROOT } from '../../src/paths';
import { storedToHu } from '../../src/study/huConversion';
import { parseInstance } from '../../src/study/instanceParser';
import { decodePixels } from '../../src/study/pixelDecoding';
import { retrieveSeriesVolume } from '../../src/study/retrieveVolume';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { expectedPixel, makeSimpleCtSeries } from '../harness/simpleCtSeries';
import { refusal } from '../harness/refusal';

const REAL = path.join(PROJECT_ROOT, 'test/fixtures/realdata');


describe('volume retrieval against a real Orthanc', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;

  before(async () => {
    orthanc = await startOrthanc();
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
  });
  after(async () => {
    client?.close();
    await orthanc?.stop();
  });

  it('streams a series into a HU volume sorted along the normal, every voxel as stored', async () => {
    const series = makeSimpleCtSeries({ seed: 'retrieve-ok', rows: 48, columns: 40, slices: 30, sliceThickness: 1.5, extra: { RescaleIntercept: -24 } });
    await client.store(series.instances.map((i) => i.part10));
    const { volume, retrieval } = await retrieveSeriesVolume(client, series.studyInstanceUID, series.seriesInstanceUID);
    expect(retrieval.parts).to.equal(30);
    expect(volume.geometry.dims).to.deep.equal([40, 48, 30]);
    expect(volume.geometry.spacing[2]).to.be.closeTo(1.5, 1e-6);
    expect(volume.seriesInstanceUID).to.equal(series.seriesInstanceUID);
    // The harness steps positions by -1.5 mm per instance: slice k of the volume is instance 29 - k.
    let mismatches = 0;
    for (let k = 0; k < 30; k++) {
      for (let j = 0; j < 48; j++) {
        for (let i = 0; i < 40; i++) if (volume.data[k * 1920 + j * 40 + i] !== expectedPixel(i, j, 29 - k) - 24) mismatches++;
      }
    }
    expect(mismatches).to.equal(0);
  });

  it('decodes a JPEG 2000 instance Orthanc cannot transcode (fetched as stored) to the uncompressed original', async () => {
    const j2k = readFileSync(path.join(REAL, 'pydicom-data/693_J2KR.dcm'));
    await client.store([j2k]);
    const header = parseInstance(j2k, { headerOnly: true });
    const { volume, retrieval } = await retrieveSeriesVolume(client, header.studyInstanceUID!, header.seriesInstanceUID!);
    expect(retrieval.fallbackFrom?.transferSyntax).to.equal('1.2.840.10008.1.2.1');
    const original = parseInstance(readFileSync(path.join(REAL, 'pydicom-data/693_UNCR.dcm')));
    const expected = new Float32Array(512 * 512);
    storedToHu(original, await decodePixels(original), expected, 0);
    expect(Buffer.from(volume.data.buffer).equals(Buffer.from(expected.buffer))).to.equal(true);
  });

  it('truncated pixel data (shorter than Rows x Columns) ends in truncated-pixel-data', async () => {
    const series = makeSimpleCtSeries({ seed: 'retrieve-truncated', rows: 32, columns: 32, slices: 20 });
    // Slice 7 carries only half its pixels: a valid data set whose PixelData is too short.
    const bad = makeSimpleCtSeries({ seed: 'retrieve-truncated', rows: 32, columns: 32, slices: 20, extra: { PixelData: [new Int16Array(32 * 16).buffer] } });
    await client.store(series.instances.map((inst, k) => (k === 7 ? bad.instances[7].part10 : inst.part10)));
    const err = await refusal(retrieveSeriesVolume(client, series.studyInstanceUID, series.seriesInstanceUID));
    expect(err.code).to.equal('truncated-pixel-data');
  });

  it('a series with a missing slice is refused from its metadata, before any pixel moves: slice-gap', async () => {
    const series = makeSimpleCtSeries({ seed: 'retrieve-gap', rows: 32, columns: 32, slices: 20 });
    await client.store(series.instances.filter((_, k) => k !== 9).map((i) => i.part10));
    const err = await refusal(retrieveSeriesVolume(client, series.studyInstanceUID, series.seriesInstanceUID));
    expect(err.code).to.equal('slice-gap');
    expect(err.details?.problems).to.be.an('array');
  });

  it('the real gantry-tilted GE head CT is refused: gantry-tilt, with its uneven spacing reported', async () => {
    const dir = path.join(REAL, 'ge-head-gantry-tilt');
    const files = Array.from({ length: 28 }, (_, n) => readFileSync(path.join(dir, `${String(n + 1).padStart(2, '0')}.dcm`)));
    await client.store(files);
    const header = parseInstance(files[0], { headerOnly: true });
    const err = await refusal(retrieveSeriesVolume(client, header.studyInstanceUID!, header.seriesInstanceUID!));
    expect(err.code).to.equal('gantry-tilt');
    expect((err.details?.problems as { code: string }[]).map((p) => p.code)).to.include('uneven-spacing');
  });
});
