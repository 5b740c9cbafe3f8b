/**
 * Results that say when they are superseded (issue 22; docs/dicom-conformance.md 3.4.1), on a
 * running node against a real Orthanc with the tiny fixture models. A study is analysed; then a
 * thin portal-venous series with more slices is added, which the selection prefers, so the
 * analysed input changes and new results are written: the new SR names the earlier SR in its
 * Predecessor Documents Sequence (dciodvfy: no errors), the earlier job says it is superseded and
 * the new one what it supersedes (API and status page), and the earlier SR, SC and SEG stay in
 * Orthanc (`results.superseded: keep`) or are gone from it (`delete`). A re-run of the new job
 * (same input, same models) adds nothing to the PACS, nor does the study announced again with the
 * new results in it.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Job } from '../../src/jobs/jobStore';
import { silentLogger } from '../../src/logging/logger';
import { startNode, type RunningNode } from '../../src/node/tsrNode';
import { readPart10 } from '../../src/results/part10';
import { dciodvfy } from '../harness/dciodvfy';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries, type SimpleCtSeries } from '../harness/simpleCtSeries';
import { call, isFinished, testNodeConfig, waitForJob, waitForStudyJob } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy, type SphereStudy } from './serveStudyFixture';

const TOKEN = 'test-token-0123456789abcdef';

interface ResultsView {
  srSopInstanceUID: string;
  srSeriesInstanceUID: string;
  stored: string[];
  supersedes?: { jobId: number; srSopInstanceUID: string; instances: string[]; action: string; deleted?: string[] };
  supersededBy?: { jobId: number; srSopInstanceUID: string; action: string; at: string };
}
const resultsOf = (job: Job): ResultsView => (job.outcome as unknown as { results: ResultsView }).results;

/** Another reconstruction of the portal-venous phase, 28 slices instead of 24 (the fixture's geometry and sphere). */
function extraVenousSeries(study: SphereStudy, seed: string): SimpleCtSeries {
  const spacing = 1.5;
  const thickness = 2.5;
  const sphere = (i: number, j: number, k: number): number => (((i - 58) * spacing) ** 2 + ((j - 44) * spacing) ** 2 + ((k - 12) * thickness) ** 2 <= 100 ? 200 : 40);
  const { name, id, birthDate } = study.patient;
  return makeSimpleCtSeries({
    seed,
    studyInstanceUID: study.studyInstanceUID,
    seriesNumber: 4,
    seriesDescription: 'Portal venous phase 2.5 mm',
    rows: 96,
    columns: 96,
    slices: 28,
    sliceThickness: thickness,
    pixelSpacing: [spacing, spacing],
    extra: { PatientName: name, PatientID: id, PatientBirthDate: birthDate, ContrastBolusAgent: 'Iohexol' },
    pixel: sphere,
  });
}

async function orthancIdOf(orthanc: OrthancInstance, sopInstanceUID: string): Promise<string | undefined> {
  const found = await orthanc.rest<Array<{ ID: string; Type: string }>>('POST', '/tools/lookup', sopInstanceUID);
  return found.find((r) => r.Type === 'Instance')?.ID;
}

async function studyInstanceCount(orthanc: OrthancInstance, studyInstanceUID: string): Promise<number> {
  const found = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', studyInstanceUID);
  return (await orthanc.rest<unknown[]>('GET', `/studies/${found[0].ID}/instances`)).length;
}

async function instanceFile(orthanc: OrthancInstance, sopInstanceUID: string): Promise<Uint8Array> {
  const id = await orthancIdOf(orthanc, sopInstanceUID);
  const response = await fetch(`${orthanc.url}/instances/${id}/file`, { headers: { Authorization: orthanc.authorization } });
  expect(response.status).to.equal(200);
  return new Uint8Array(await response.arrayBuffer());
}

async function analyse(base: string, studyInstanceUID: string): Promise<Job> {
  const r = await call<{ outcome: string; job: Job }>(base, 'POST', `/api/studies/${studyInstanceUID}/analyze`, { token: TOKEN, body: {} });
  expect(r.status, JSON.stringify(r.body)).to.equal(202);
  const job = await waitForJob(base, TOKEN, r.body.job.id, isFinished, 90_000);
  expect(job.state, JSON.stringify(job.reason)).to.equal('done');
  return job;
}

async function loggedInPage(base: string, route: string): Promise<string> {
  const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const page = await fetch(base + route, { headers: { Cookie: cookie } });
  expect(page.status).to.equal(200);
  return page.text();
}

describe('superseded results: a changed study gets new results that name their predecessor (real Orthanc, tiny models)', function () {
  this.timeout(300_000);
  let orthanc: OrthancInstance;

  before(async () => {
    orthanc = await startOrthanc({ stableAgeSeconds: 1 });
  });
  after(async () => {
    await orthanc?.stop();
  });

  for (const mode of ['keep', 'delete'] as const) {
    it(`results.superseded "${mode}": predecessor in the new SR, the earlier result marked superseded${mode === 'delete' ? ' and deleted from Orthanc' : ' and kept in Orthanc'}; a re-run adds nothing`, async () => {
      let node: RunningNode | undefined;
      try {
        // Manual triggers only: no feed racing the test for the same study.
        node = await startNode({ config: testNodeConfig(orthanc, { feed: { mode: 'webhook' }, results: { superseded: mode } }), logger: silentLogger, workerPollIntervalMs: 100 });
        const base = node.url;
        const seed = `supersede-${mode}`;
        const study = makeSphereStudy({ seed });
        await uploadSphereStudy(orthanc, study);

        const first = await analyse(base, study.studyInstanceUID);
        const old = resultsOf(first);
        expect(first.resultUids).to.have.length(3);
        expect(old.supersedes, 'a first result supersedes nothing').to.equal(undefined);

        // The study changes: a portal-venous series with more slices, which the selection prefers.
        const extra = extraVenousSeries(study, seed);
        for (const instance of extra.instances) await orthanc.rest('POST', '/instances', Buffer.from(instance.part10));
        const second = await analyse(base, study.studyInstanceUID);
        expect((second.outcome as { venous: { seriesInstanceUID: string } }).venous.seriesInstanceUID).to.equal(extra.seriesInstanceUID);
        const now = resultsOf(second);
        expect(now.srSopInstanceUID).to.not.equal(old.srSopInstanceUID);
        expect(now.stored).to.have.length(3);
        expect(now.supersedes).to.deep.include({ jobId: first.id, srSopInstanceUID: old.srSopInstanceUID, action: mode === 'delete' ? 'deleted' : 'kept' });
        expect(now.supersedes?.instances).to.have.members(first.resultUids!);
        if (mode === 'delete') expect(now.supersedes?.deleted).to.have.members(first.resultUids!);

        // The new SR, as Orthanc holds it, names the earlier SR; dciodvfy finds no error.
        const srBytes = await instanceFile(orthanc, now.srSopInstanceUID);
        const sr = readPart10(srBytes);
        const predecessors = sr.PredecessorDocumentsSequence as Array<{ StudyInstanceUID: string; ReferencedSeriesSequence: Array<{ SeriesInstanceUID: string; ReferencedSOPSequence: Array<{ ReferencedSOPClassUID: string; ReferencedSOPInstanceUID: string }> }> }>;
        expect(predecessors).to.have.length(1);
        expect(predecessors[0].StudyInstanceUID).to.equal(study.studyInstanceUID);
        expect(predecessors[0].ReferencedSeriesSequence[0].SeriesInstanceUID).to.equal(old.srSeriesInstanceUID);
        expect(predecessors[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]).to.include({ ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.88.34', ReferencedSOPInstanceUID: old.srSopInstanceUID });
        const report = dciodvfy(srBytes);
        expect(report.errors, report.raw).to.deep.equal([]);

        // GET /api/jobs/:id: the earlier result says which result stands instead.
        const firstNow = (await call<Job>(base, 'GET', `/api/jobs/${first.id}`, { token: TOKEN })).body;
        expect(resultsOf(firstNow).supersededBy).to.deep.include({ jobId: second.id, srSopInstanceUID: now.srSopInstanceUID, action: mode === 'delete' ? 'deleted' : 'kept' });
        expect(resultsOf(second).supersededBy, 'the new result stands').to.equal(undefined);

        // The PACS: the earlier objects kept, or gone.
        for (const uid of first.resultUids!) {
          expect(await orthancIdOf(orthanc, uid), uid).to.satisfy((id: string | undefined) => (mode === 'keep' ? id !== undefined : id === undefined));
        }
        for (const uid of second.resultUids!) expect(await orthancIdOf(orthanc, uid), uid).to.be.a('string');

        // The status page and the job pages show it.
        expect(await loggedInPage(base, '/')).to.contain(`superseded by <a href="/jobs/${second.id}">job ${second.id}</a>`);
        expect(await loggedInPage(base, `/jobs/${first.id}`)).to.contain('<dt>Superseded</dt>');
        expect(await loggedInPage(base, `/jobs/${second.id}`)).to.contain('<dt>Supersedes</dt>');

        // A re-run with the same input and models: the same UIDs, nothing stored, nothing deleted.
        const before = await studyInstanceCount(orthanc, study.studyInstanceUID);
        const retry = await call(base, 'POST', `/api/jobs/${second.id}/retry`, { token: TOKEN });
        expect(retry.status).to.equal(202);
        const rerun = await waitForJob(base, TOKEN, second.id, (job) => isFinished(job) && job.attempts === 1 && job.finishedAt !== second.finishedAt, 90_000);
        expect(rerun.state).to.equal('done');
        expect(resultsOf(rerun).srSopInstanceUID).to.equal(now.srSopInstanceUID);
        expect(resultsOf(rerun).stored).to.deep.equal([]);
        expect(resultsOf(rerun).supersedes).to.deep.include({ jobId: first.id, srSopInstanceUID: old.srSopInstanceUID });
        expect(await studyInstanceCount(orthanc, study.studyInstanceUID)).to.equal(before);
        expect(before).to.equal(24 + 24 + 28 + 3 + (mode === 'keep' ? 3 : 0));
        expect(rerun.outcome, 'analysed again, not taken for a repeat').to.not.have.property('sameAsJobId');

        // The study announced again with our new results in it (what StableStudy after the STOW-RS
        // does): recognised as the second job's content plus its results (and less the results it
        // deleted), so nothing is analysed and nothing added.
        const third = await analyse(base, study.studyInstanceUID);
        expect(third.id).to.not.equal(second.id);
        expect(third.outcome).to.deep.include({ sameAsJobId: second.id });
        expect(third.resultUids).to.have.members(second.resultUids!);
        expect(resultsOf(third).supersedes).to.deep.include({ jobId: first.id, srSopInstanceUID: old.srSopInstanceUID });
        expect(resultsOf(third).supersededBy).to.equal(undefined);
        expect(await studyInstanceCount(orthanc, study.studyInstanceUID)).to.equal(before);
        expect(resultsOf((await call<Job>(base, 'GET', `/api/jobs/${first.id}`, { token: TOKEN })).body).supersededBy?.jobId, 'the first mark stays').to.equal(second.id);
      } finally {
        await node?.stop({ timeoutMs: 5000 });
        if (node) rmSync(node.config.dataDir, { recursive: true, force: true });
      }
    });
  }
});

describe('superseded results through the change feed, prepared ahead of StableStudy (real Orthanc, tiny models)', function () {
  this.timeout(300_000);
  let orthanc: OrthancInstance;
  let node: RunningNode | undefined;

  before(async () => {
    orthanc = await startOrthanc({ stableAgeSeconds: 4 });
    const config = testNodeConfig(orthanc, { feed: { mode: 'poll', pollSchedule: '* * * * * *', prepareAhead: { enabled: true, quietSeconds: 0.5 } } });
    node = await startNode({ config, logger: silentLogger, workerPollIntervalMs: 100 });
  });
  after(async () => {
    await node?.stop({ timeoutMs: 5000 });
    if (node) rmSync(node.config.dataDir, { recursive: true, force: true });
    await orthanc?.stop();
  });

  it('the series added: the prepared SR names the earlier SR, the job supersedes it; our own results coming back are recognised each time', async () => {
    const base = node!.url;
    const seed = 'supersede-feed';
    const study = makeSphereStudy({ seed });
    await uploadSphereStudy(orthanc, study);
    // A job that analysed and stored (not one that repeated an earlier job's outcome).
    const stored = (job: Job): boolean => job.state === 'done' && (resultsOf(job)?.stored.length ?? 0) > 0 && (job.outcome as { sameAsJobId?: number }).sameAsJobId === undefined;
    const first = await waitForStudyJob(base, TOKEN, study.studyInstanceUID, stored, 60_000);
    // StableStudy once more, for our own results: recognised, nothing analysed.
    await waitForStudyJob(base, TOKEN, study.studyInstanceUID, (job) => isFinished(job) && (job.outcome as { sameAsJobId?: number } | undefined)?.sameAsJobId === first.id, 60_000);

    const extra = extraVenousSeries(study, seed);
    for (const instance of extra.instances) await orthanc.rest('POST', '/instances', Buffer.from(instance.part10));
    const second = await waitForStudyJob(base, TOKEN, study.studyInstanceUID, (job) => stored(job) && job.id !== first.id, 60_000);
    expect((second.outcome as { preparedAhead?: { used: boolean } }).preparedAhead?.used, JSON.stringify(second.outcome)).to.equal(true);
    expect(resultsOf(second).supersedes).to.deep.include({ jobId: first.id, srSopInstanceUID: resultsOf(first).srSopInstanceUID, action: 'kept' });
    const sr = readPart10(await instanceFile(orthanc, resultsOf(second).srSopInstanceUID));
    const predecessor = (sr.PredecessorDocumentsSequence as Array<{ ReferencedSeriesSequence: Array<{ ReferencedSOPSequence: Array<{ ReferencedSOPInstanceUID: string }> }> }>)[0];
    expect(predecessor.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID).to.equal(resultsOf(first).srSopInstanceUID);
    const marked = (await call<Job>(base, 'GET', `/api/jobs/${first.id}`, { token: TOKEN })).body;
    expect(resultsOf(marked).supersededBy).to.deep.include({ jobId: second.id, action: 'kept' });

    // Our new results come back as new content: recognised as the second job's, nothing analysed or added.
    await waitForStudyJob(base, TOKEN, study.studyInstanceUID, (job) => isFinished(job) && (job.outcome as { sameAsJobId?: number } | undefined)?.sameAsJobId === second.id, 60_000);
    expect(await studyInstanceCount(orthanc, study.studyInstanceUID)).to.equal(24 + 24 + 28 + 3 + 3);
    const { jobs } = (await call<{ jobs: Job[] }>(base, 'GET', `/api/jobs?study=${study.studyInstanceUID}`, { token: TOKEN })).body;
    expect(jobs.filter(stored).map((job) => job.id)).to.have.members([first.id, second.id]);
  });
});
