import { expect } from 'chai';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { PermanentError } from '../../src/errors';
import { nodeDevice } from '../../src/results/device';
import { buildTsrResults, type TsrResults } from '../../src/results/resultObjects';
import { isTransientFailureReason, storeResults } from '../../src/results/store';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeTsrFixture, type TsrFixture } from '../unit/results/tsrFixture';

const now = new Date('2025-03-01T10:20:30Z');

function results(f: TsrFixture): TsrResults {
  return buildTsrResults({
    analysis: f.analysis,
    sourceMetadata: f.sourceMetadata,
    device: nodeDevice('TSR-NODE'),
    srSeriesDescription: 'TSR AI report (research use)',
    scSeriesDescription: 'TSR AI overlay (research use)',
    now,
    overlayPanelSize: 128,
  });
}

describe('results/store: idempotent STOW-RS into a real Orthanc', () => {
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;
  const f = makeTsrFixture({ size: 32, slices: 6 });

  before(async () => {
    orthanc = await startOrthanc();
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password, requestAttempts: 1 });
    for (const series of [f.series.arterial, f.series.venous]) {
      for (const instance of series.instances) await orthanc.rest('POST', '/instances', instance.part10);
    }
  });
  after(async () => {
    client?.close();
    await orthanc?.stop();
  });

  const countInstances = async (): Promise<number> => (await orthanc.rest<{ CountInstances: number }>('GET', '/statistics')).CountInstances;

  it('stores the SR and the SC in one request, into the source study, each in its own new series', async () => {
    const r = results(f);
    const outcome = await storeResults(client, f.studyInstanceUID, [r.sr, r.sc]);
    expect(outcome.stored).to.deep.equal([r.sr.sopInstanceUID, r.sc.sopInstanceUID]);
    expect(outcome.alreadyPresent).to.deep.equal([]);
    const series = await client.searchSeries(f.studyInstanceUID, ['0008103E']);
    const bySeries = new Map(series.map((s) => [s['0020000E']?.Value?.[0], s['00080060']?.Value?.[0]]));
    expect(bySeries.get(r.sr.seriesInstanceUID)).to.equal('SR');
    expect(bySeries.get(r.sc.seriesInstanceUID)).to.equal('OT');
    expect(series).to.have.length(4);
  });

  it('adds nothing when run again with the same input and model (the QIDO check finds both)', async () => {
    const before = await countInstances();
    const r = results(f); // rebuilt: another clock reading would not matter, the UIDs are the same
    const outcome = await storeResults(client, f.studyInstanceUID, [r.sr, r.sc]);
    expect(outcome.stored).to.deep.equal([]);
    expect(outcome.alreadyPresent).to.deep.equal([r.sr.sopInstanceUID, r.sc.sopInstanceUID]);
    expect(await countInstances()).to.equal(before);
  });

  it('sends only what is missing (the SC was deleted from the PACS)', async () => {
    const r = results(f);
    const found = await orthanc.rest<string[]>('POST', '/tools/find', { Level: 'Instance', Query: { SOPInstanceUID: r.sc.sopInstanceUID } });
    expect(found).to.have.length(1);
    await orthanc.rest('DELETE', `/instances/${found[0]}`);
    const outcome = await storeResults(client, f.studyInstanceUID, [r.sr, r.sc]);
    expect(outcome.stored).to.deep.equal([r.sc.sopInstanceUID]);
    expect(outcome.alreadyPresent).to.deep.equal([r.sr.sopInstanceUID]);
  });

  it('stores new results beside the old ones for a new model', async () => {
    const before = await countInstances();
    const retrained = makeTsrFixture({ size: 32, slices: 6, classifierSha256: 'c'.repeat(64) });
    const r = results(retrained);
    expect(r.identity.srSopInstanceUID).to.not.equal(results(f).identity.srSopInstanceUID);
    const outcome = await storeResults(client, f.studyInstanceUID, [r.sr, r.sc]);
    expect(outcome.stored).to.have.length(2);
    expect(await countInstances()).to.equal(before + 2);
  });

  it('treats a partial failure as a failure, naming the refused object and its reason', async () => {
    // The SC of another study sent to this study's STOW-RS URL: Orthanc refuses that one only.
    const other = makeTsrFixture({ seed: 'another-study', size: 32, slices: 6, classifierSha256: 'd'.repeat(64) });
    const mine = results(makeTsrFixture({ size: 32, slices: 6, classifierSha256: 'e'.repeat(64) }));
    const stranger = results(other).sc;
    let error: unknown;
    try {
      await storeResults(client, f.studyInstanceUID, [mine.sr, stranger]);
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(PermanentError);
    expect((error as Error).message).to.contain(`SC ${stranger.sopInstanceUID}`);
    expect((error as Error).message).to.match(/failed in part: .*[0-9A-F]{4}H/);
    expect((error as Error).message).to.contain(`stored: ${mine.sr.sopInstanceUID}`);
  });

  it('retries only "out of resources" failures (A7xx); everything else is permanent', () => {
    const rows: Array<[number | undefined, boolean, string]> = [
      [0xa700, true, 'out of resources'],
      [0xa7ff, true, 'out of resources, vendor-specific'],
      [0xa900, false, 'data set does not match SOP class'],
      [0xc000, false, 'cannot understand'],
      [0x0110, false, 'processing failure'],
      [0x0122, false, 'SOP class not supported'],
      [undefined, false, 'no reason given'],
    ];
    for (const [reason, retryable, why] of rows) expect(isTransientFailureReason(reason), why).to.equal(retryable);
  });
});
