/**
 * Damaged CT series through a real Orthanc (issue 24 item 3): stored as they are, retrieved with
 * WADO-RS into a HU volume as a job does. A header that does not describe its pixel data, or a
 * rescale that cannot give CT numbers, is refused with its own reason code and a message that
 * names the series and the tag; the undamaged series gives its volume. The fuzz suite
 * (test/unit/study/fuzzDamage.test.ts) covers many more kinds of damage without Orthanc.
 */
import { expect } from 'chai';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { TAG } from '../../src/dicom/dictionary';
import { decideOnFailure } from '../../src/jobs/retryPolicy';
import { retrieveSeriesVolume } from '../../src/study/retrieveVolume';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { refusal } from '../harness/refusal';
import { damagedSlice, type Damage } from '../unit/study/fuzzDamage';
import { ENCODINGS, expectedHu, seriesUids, type SeriesSpec } from '../unit/study/fuzzSeries';

describe('damaged CT series retrieved from a real Orthanc', function () {
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

  /** Stores a 12-slice series (its own UIDs from `seed`) with the damage in every slice, or none. */
  async function storeSeries(seed: string, damage?: Damage): Promise<SeriesSpec> {
    const spec: SeriesSpec = { seed, rows: 24, columns: 32, slices: 12, pixelSpacing: [0.7, 0.8], thickness: 2.5, encoding: ENCODINGS[1] };
    const noDamage: Damage = { kind: 'trailing', bytes: [] };
    const parts = Array.from({ length: spec.slices }, (_, k) => damagedSlice(spec, k, { encoding: 1, explicit: true, target: 'all', rotation: 0, damage: damage ?? noDamage }));
    await client.store(parts);
    return spec;
  }

  it('the undamaged series gives its volume, every voxel as written', async () => {
    const spec = await storeSeries('orthanc-undamaged');
    const uids = seriesUids(spec);
    const { volume } = await retrieveSeriesVolume(client, uids.study, uids.series);
    expect(volume.geometry.dims).to.deep.equal([32, 24, 12]);
    expect(Buffer.from(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength).equals(Buffer.from(expectedHu(spec).buffer))).to.equal(true);
  });

  const rows: { why: string; damage: Damage; code: string; named: string[] }[] = [
    {
      why: 'Columns 16 over 32 columns of pixels (pixel data longer than the header says)',
      damage: { kind: 'set', tag: TAG.columns, vr: 'US', value: 16 },
      code: 'pixel-data-length-mismatch',
      named: ['PixelData (7FE0,0010) holds 1536 bytes', 'Columns (0028,0011) 16'],
    },
    {
      why: 'RescaleSlope 1e9',
      damage: { kind: 'set', tag: TAG.rescaleSlope, vr: 'DS', value: '1e9' },
      code: 'implausible-rescale',
      named: ['RescaleSlope (0028,1053) 1000000000'],
    },
    {
      why: 'HighBit 7 with BitsStored 16',
      damage: { kind: 'set', tag: TAG.highBit, vr: 'US', value: 7 },
      code: 'high-bit-mismatch',
      named: ['HighBit (0028,0102) 7'],
    },
  ];
  for (const row of rows) {
    it(`${row.why}: ${row.code}, naming the series and the tag; the job would be skipped with it`, async () => {
      const spec = await storeSeries(`orthanc-${row.code}`, row.damage);
      const uids = seriesUids(spec);
      const err = await refusal(retrieveSeriesVolume(client, uids.study, uids.series));
      expect(err.code).to.equal(row.code);
      for (const text of [uids.series, ...row.named]) expect(err.message).to.contain(text);
      const decision = decideOnFailure(err, 1, { maxAttempts: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 1 }, new Date());
      expect(decision).to.deep.include({ action: 'skip', reason: { code: row.code, message: err.message } });
    });
  }
});
