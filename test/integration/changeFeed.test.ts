/**
 * The change feed and intake against a real Orthanc: StableStudy becomes a job; the same
 * content is recognised, grown content is new work; a study deleted under our feet is recorded;
 * a feed stopped in the middle (in-process failure mid-page, and kill -9 of a feed process)
 * resumes with no study missed and none enqueued twice.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { TransientError } from '../../src/errors';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { ChangeFeed } from '../../src/orthanc/changeFeed';
import { StudyIntake } from '../../src/orthanc/intake';
import { OrthancRestClient, type OrthancChangesPage } from '../../src/orthanc/orthancRest';
import { studyContentFingerprint } from '../../src/orthanc/studyFingerprint';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries, type SimpleCtSeries } from '../harness/simpleCtSeries';

const CHILD = path.join(__dirname, '../harness/changeFeedChild.ts');
const TSX = require.resolve('tsx/cjs');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function upload(orthanc: OrthancInstance, series: SimpleCtSeries): Promise<void> {
  for (const instance of series.instances) await orthanc.rest('POST', '/instances', instance.part10);
}

/** Waits until Orthanc's change log holds `count` StableStudy changes in all. */
async function waitForStableStudies(orthanc: OrthancInstance, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    let seen = 0;
    let since = 0;
    for (;;) {
      const page = await orthanc.rest<{ Changes: Array<{ ChangeType: string }>; Last: number; Done: boolean }>('GET', `/changes?since=${since}&limit=1000`);
      seen += page.Changes.filter((c) => c.ChangeType === 'StableStudy').length;
      since = page.Last;
      if (page.Done) break;
    }
    if (seen >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${seen} of ${count} StableStudy changes after 20 s`);
    await sleep(100);
  }
}

async function orthancStudyId(orthanc: OrthancInstance, studyInstanceUID: string): Promise<string> {
  const found = await orthanc.rest<Array<{ ID: string; Path: string }>>('POST', '/tools/lookup', studyInstanceUID);
  return found[0].ID;
}

describe('orthanc/changeFeed and intake against a real Orthanc', function () {
  this.timeout(60_000);
  let orthanc: OrthancInstance;
  let dir: string;
  let store: SqliteJobStore;
  let rest: OrthancRestClient;
  let dicomWeb: DicomWebClientHandle;
  let intake: StudyIntake;

  const connection = (): { url: string; username: string; password: string } => ({ url: orthanc.url, username: orthanc.username, password: orthanc.password });

  beforeEach(async () => {
    // OverwriteInstances: a study sent again logs new changes and becomes stable again.
    orthanc = await startOrthanc({ stableAgeSeconds: 1, extraConfig: { OverwriteInstances: true } });
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-feed-'));
    store = new SqliteJobStore({ path: dir });
    rest = new OrthancRestClient(connection());
    dicomWeb = createDicomWebClient(connection());
    intake = new StudyIntake({ store, orthanc: rest, dicomWeb });
  });
  afterEach(async () => {
    rest.close();
    dicomWeb.close();
    await store.close();
    await orthanc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('StableStudy becomes one job with the study content fingerprint; a second poll finds nothing new', async () => {
    const arterial = makeSimpleCtSeries({ seed: 'feed-a', slices: 3, rows: 16, columns: 16, seriesNumber: 1 });
    const venous = makeSimpleCtSeries({ seed: 'feed-a', studyInstanceUID: arterial.studyInstanceUID, slices: 3, rows: 16, columns: 16, seriesNumber: 2 });
    await upload(orthanc, arterial);
    await upload(orthanc, venous);
    await waitForStableStudies(orthanc, 1);
    let woken = 0;
    const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '*/3 * * * * *', pageSize: 4, onEnqueued: () => woken++ });
    const first = await feed.poll();
    expect(first).to.include({ stableStudies: 1, enqueued: 1, recognised: 0, deleted: 0 });
    expect(first.pages).to.be.greaterThan(1);
    expect(woken).to.equal(1);
    const { jobs } = await store.list();
    expect(jobs).to.have.length(1);
    const expected = studyContentFingerprint([...arterial.instances, ...venous.instances].map((i) => i.sopInstanceUID));
    expect(jobs[0]).to.include({ studyInstanceUID: arterial.studyInstanceUID, fingerprint: expected, source: 'feed', state: 'queued' });
    expect(jobs[0].orthancStudyId).to.equal(await orthancStudyId(orthanc, arterial.studyInstanceUID));
    expect(await store.getChangeCursor()).to.equal(first.cursor);
    const second = await feed.poll();
    expect(second).to.include({ stableStudies: 0, enqueued: 0, cursor: first.cursor });
  });

  it('tells an activity observer which studies receive instances (in log order) and which became stable', async () => {
    const a = makeSimpleCtSeries({ seed: 'feed-activity-a', slices: 3, rows: 16, columns: 16 });
    const b = makeSimpleCtSeries({ seed: 'feed-activity-b', slices: 3, rows: 16, columns: 16 });
    const events: string[] = [];
    const seqs: number[] = [];
    const activity = {
      studyActive: (id: string, seq: number) => {
        events.push(`active ${id}`);
        seqs.push(seq);
      },
      studyStable: (id: string) => events.push(`stable ${id}`),
    };
    const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '* * * * * *', pageSize: 200, activity });
    await upload(orthanc, a);
    await feed.poll();
    const idA = await orthancStudyId(orthanc, a.studyInstanceUID);
    // NewStudy, then the study of the page's last NewInstance (one lookup).
    expect(events).to.deep.equal([`active ${idA}`, `active ${idA}`]);
    // With the sequence number of the change: NewStudy early in the log, the last NewInstance last.
    expect(seqs[1]).to.equal(await rest.getLastChangeSeq());
    expect(seqs[0]).to.be.below(seqs[1]);
    events.length = 0;
    await upload(orthanc, b);
    await waitForStableStudies(orthanc, 2);
    await feed.poll();
    const idB = await orthancStudyId(orthanc, b.studyInstanceUID);
    expect(events).to.include(`active ${idB}`);
    expect(events).to.include(`stable ${idA}`);
    expect(events.lastIndexOf(`stable ${idB}`)).to.be.greaterThan(events.lastIndexOf(`active ${idB}`));
  });

  it('the same content stable again is recognised; a study that gains a series becomes new work', async () => {
    const first = makeSimpleCtSeries({ seed: 'feed-grow', slices: 2, rows: 16, columns: 16, seriesNumber: 1 });
    await upload(orthanc, first);
    await waitForStableStudies(orthanc, 1);
    const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '*/3 * * * * *', pageSize: 50 });
    expect((await feed.poll()).enqueued).to.equal(1);

    // Sent again unchanged: a second StableStudy with the same content is recognised.
    await upload(orthanc, first);
    await waitForStableStudies(orthanc, 2);
    expect(await feed.poll()).to.include({ stableStudies: 1, enqueued: 0, recognised: 1 });

    // The venous series arrives later: the study becomes stable again with more instances.
    const later = makeSimpleCtSeries({ seed: 'feed-grow', studyInstanceUID: first.studyInstanceUID, slices: 2, rows: 16, columns: 16, seriesNumber: 2 });
    await upload(orthanc, later);
    await waitForStableStudies(orthanc, 3);
    expect(await feed.poll()).to.include({ stableStudies: 1, enqueued: 1, recognised: 0 });
    const jobs = (await store.list({ studyInstanceUID: first.studyInstanceUID })).jobs;
    expect(jobs.map((j) => j.fingerprint.split(':')[1])).to.deep.equal(['4', '2']);

    // Announced again with the same content: recognised, not new work.
    const id = await orthancStudyId(orthanc, first.studyInstanceUID);
    const byWebhook = await intake.onStableStudyNotification({ orthancStudyId: id });
    expect(byWebhook.outcome).to.equal('recognised');
    expect(byWebhook.job?.id).to.equal(jobs[0].id);
    expect((await store.list()).jobs).to.have.length(2);
  });

  it('the webhook and the feed announcing the same study make one job', async () => {
    const s = makeSimpleCtSeries({ seed: 'feed-both', slices: 2, rows: 16, columns: 16 });
    await upload(orthanc, s);
    await waitForStableStudies(orthanc, 1);
    const viaWebhook = await intake.onStableStudyNotification({ orthancStudyId: await orthancStudyId(orthanc, s.studyInstanceUID) });
    expect(viaWebhook.outcome).to.equal('enqueued');
    const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '*/3 * * * * *', pageSize: 50 });
    expect(await feed.poll()).to.include({ enqueued: 0, recognised: 1 });
    const manual = await intake.analyzeStudy(s.studyInstanceUID);
    expect(manual.outcome, 'QIDO gives the same fingerprint as Orthanc REST').to.equal('recognised');
    expect((await store.list()).jobs).to.have.length(1);
  });

  it('manual trigger by StudyInstanceUID (QIDO-RS): unknown study is not-found; re-run requeues a finished job', async () => {
    expect((await intake.analyzeStudy('1.2.3.4.5.6')).outcome).to.equal('not-found');
    expect((await intake.analyzeStudy('not-a-uid')).outcome).to.equal('ignored');
    const s = makeSimpleCtSeries({ seed: 'feed-manual', slices: 2, rows: 16, columns: 16 });
    await upload(orthanc, s);
    const queued = await intake.analyzeStudy(s.studyInstanceUID);
    expect(queued.outcome).to.equal('enqueued');
    const claimed = await store.claim({ owner: 'w', leaseMs: 60_000 });
    await store.complete(claimed?.id ?? 0, 'w', { outcome: 'done once' });
    expect((await intake.analyzeStudy(s.studyInstanceUID)).outcome).to.equal('recognised');
    const rerun = await intake.analyzeStudy(s.studyInstanceUID, { rerun: true });
    expect(rerun.outcome).to.equal('requeued');
    expect(rerun.job).to.include({ id: queued.job?.id, state: 'queued', attempts: 0 });
    const events = (await store.listIntakeEvents()).map((e) => e.outcome);
    expect(events).to.include.members(['not-found', 'enqueued', 'recognised']);
  });

  it('a study deleted between the change log and its lookup is recorded, not crashed on', async () => {
    const kept = makeSimpleCtSeries({ seed: 'feed-kept', slices: 2, rows: 16, columns: 16 });
    const doomed = makeSimpleCtSeries({ seed: 'feed-doomed', slices: 2, rows: 16, columns: 16 });
    await upload(orthanc, kept);
    await upload(orthanc, doomed);
    await waitForStableStudies(orthanc, 2);
    const doomedId = await orthancStudyId(orthanc, doomed.studyInstanceUID);
    // Orthanc drops a deleted study's changes from /changes, so the race is staged: the study is
    // deleted right after the page naming it has been read.
    class DeletingRest extends OrthancRestClient {
      override async getChanges(since: number, limit: number): Promise<OrthancChangesPage> {
        const page = await super.getChanges(since, limit);
        if (page.changes.some((c) => c.ID === doomedId && c.ChangeType === 'StableStudy')) await orthanc.rest('DELETE', `/studies/${doomedId}`);
        return page;
      }
    }
    const racing = new DeletingRest(connection());
    const racingIntake = new StudyIntake({ store, orthanc: racing, dicomWeb });
    const feed = new ChangeFeed({ store, orthanc: racing, intake: racingIntake, pollSchedule: '*/3 * * * * *', pageSize: 100 });
    const summary = await feed.poll();
    racing.close();
    expect(summary).to.include({ stableStudies: 2, enqueued: 1, deleted: 1 });
    expect((await store.list()).jobs.map((j) => j.studyInstanceUID)).to.deep.equal([kept.studyInstanceUID]);
    const deleted = (await store.listIntakeEvents()).find((e) => e.outcome === 'study-deleted');
    expect(deleted).to.include({ orthancStudyId: doomedId, source: 'feed' });
    // The webhook path records it the same way.
    expect((await intake.onStableStudyNotification({ orthancStudyId: doomedId })).outcome).to.equal('study-deleted');
    expect((await intake.onStableStudyNotification({ orthancStudyId: '../../system' })).outcome).to.equal('ignored');
  });

  describe('stopped in the middle and restarted', () => {
    const STUDIES = 12;
    let uploaded: SimpleCtSeries[];
    beforeEach(async () => {
      uploaded = [];
      for (let i = 0; i < STUDIES; i++) {
        const s = makeSimpleCtSeries({ seed: `feed-restart-${i}`, slices: 2, rows: 16, columns: 16 });
        await upload(orthanc, s);
        uploaded.push(s);
      }
      await waitForStableStudies(orthanc, STUDIES);
    });

    async function expectEachStudyOnce(): Promise<void> {
      const { jobs } = await store.list({ limit: 500 });
      expect(jobs.map((j) => j.studyInstanceUID).sort()).to.deep.equal(uploaded.map((s) => s.studyInstanceUID).sort());
      const enqueuedEvents = (await store.listIntakeEvents(1000)).filter((e) => e.outcome === 'enqueued');
      expect(enqueuedEvents, 'one enqueue per study, never two').to.have.length(STUDIES);
    }

    it('a poll that fails mid-page (PACS trouble) commits nothing of that page; the next poll resumes there', async () => {
      let lookups = 0;
      class FailingRest extends OrthancRestClient {
        override async getStudySopInstanceUIDs(id: string): Promise<string[] | undefined> {
          if (++lookups === 5) throw new TransientError('connection reset (staged)');
          return super.getStudySopInstanceUIDs(id);
        }
      }
      const failing = new FailingRest(connection());
      const feed1 = new ChangeFeed({ store, orthanc: failing, intake: new StudyIntake({ store, orthanc: failing, dicomWeb }), pollSchedule: '* * * * * *', pageSize: 7 });
      let failed = false;
      await feed1.poll().catch(() => (failed = true));
      failing.close();
      expect(failed).to.equal(true);
      const before = await store.list({ limit: 500 });
      expect(before.jobs.length, 'some studies were committed before the failure').to.be.within(1, STUDIES - 1);
      const cursorAfterFailure = await store.getChangeCursor();

      const feed2 = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '* * * * * *', pageSize: 7 });
      const resumed = await feed2.poll();
      expect(resumed.recognised, 'nothing from a committed page is read twice').to.equal(0);
      expect(before.jobs.length + resumed.enqueued).to.equal(STUDIES);
      expect(resumed.cursor).to.be.greaterThan(cursorAfterFailure);
      await expectEachStudyOnce();
    });

    it('kill -9 of the feed process mid-feed, then a restart: no study missed, none enqueued twice', async () => {
      const file = path.join(dir, 'jobs.sqlite');
      await store.close();
      const child = spawn(process.execPath, ['--require', TSX, CHILD, file, '5'], {
        env: { ...process.env, ORTHANC_URL: orthanc.url, ORTHANC_USERNAME: orthanc.username, ORTHANC_PASSWORD: orthanc.password, PAGE_DELAY_MS: '60' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      await new Promise<void>((resolve, reject) => {
        let enqueued = 0;
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          enqueued = (stderr.match(/study enqueued from the change feed/g) ?? []).length;
          if (enqueued >= 3) {
            child.kill('SIGKILL');
            resolve();
          }
        });
        child.once('exit', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`feed process ended by itself (${code}) before it could be killed: ${stderr.slice(-2000)}`));
        });
      });
      await new Promise((r) => child.once('close', r));
      expect(stdout, 'killed before it finished').to.not.include('poll done');

      store = new SqliteJobStore({ path: file });
      const committed = (await store.list({ limit: 500 })).jobs.length;
      expect(committed).to.be.within(3, STUDIES - 1);
      intake = new StudyIntake({ store, orthanc: rest, dicomWeb });
      const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '* * * * * *', pageSize: 5 });
      const resumed = await feed.poll();
      expect(resumed.recognised).to.equal(0);
      expect(committed + resumed.enqueued).to.equal(STUDIES);
      await expectEachStudyOnce();
    });
  });

  it('polls on its schedule until stopped', async () => {
    const s = makeSimpleCtSeries({ seed: 'feed-scheduled', slices: 2, rows: 16, columns: 16 });
    const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '* * * * * *', pageSize: 50 });
    feed.start();
    await upload(orthanc, s);
    const deadline = Date.now() + 15_000;
    while ((await store.list()).jobs.length === 0) {
      if (Date.now() > deadline) throw new Error('the scheduled feed did not enqueue the study');
      await sleep(100);
    }
    await feed.stop();
    expect((await store.list()).jobs[0].studyInstanceUID).to.equal(s.studyInstanceUID);
    expect(() => new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: 'every now and then', pageSize: 5 })).to.throw(RangeError);
  });

  it("starts again from 0 when Orthanc's change log is behind the cursor (a new Orthanc database)", async () => {
    await store.commitChangesPage({ cursor: 5000, enqueues: [], events: [] });
    const s = makeSimpleCtSeries({ seed: 'feed-reset', slices: 2, rows: 16, columns: 16 });
    await upload(orthanc, s);
    await waitForStableStudies(orthanc, 1);
    const feed = new ChangeFeed({ store, orthanc: rest, intake, pollSchedule: '* * * * * *', pageSize: 50 });
    const summary = await feed.poll();
    expect(summary.enqueued).to.equal(1);
    expect(summary.cursor).to.be.below(5000);
    expect(await store.getChangeCursor(), 'the stored cursor moved back with the restart').to.equal(summary.cursor);
  });
});
