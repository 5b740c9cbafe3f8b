/**
 * Prepare-ahead in a running node (src/node/tsrNode.ts) against a real Orthanc, with the tiny
 * fixture models: a study is analysed while Orthanc waits for it to be stable (StableAge 4 s,
 * quiet after 0.5 s, the change feed polled every second), and its job at StableStudy only
 * stores the prepared results. When the study's content changes after the preparation, the
 * prepared result is never stored: either the study is prepared again (new instances make it
 * active again) or, when nothing new arrives (an instance deleted), the job runs the whole
 * pipeline. Results always match the content Orthanc called stable; no patient identity in logs.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import type { Job } from '../../src/jobs/jobStore';
import { createLogger } from '../../src/logging/logger';
import { startNode, type RunningNode } from '../../src/node/tsrNode';
import { studyContentFingerprint } from '../../src/orthanc/studyFingerprint';
import { analyseStudyPipeline, type StudyPipeline, type StudyPipelineResult } from '../../src/pipeline/analyseStudy';
import { nodeDevice } from '../../src/results/device';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries, type SimpleCtSeries } from '../harness/simpleCtSeries';
import { call, isFinished, sleep, testNodeConfig, waitForStudyJob } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy, type SphereStudy } from './serveStudyFixture';

const TOKEN = 'test-token-0123456789abcdef';
const STABLE_AGE_S = 4;

interface JobOutcomeView {
  label: string;
  probabilityHigh: number;
  preparedAhead?: { used: boolean; preparedAt?: string; reason?: string; waitedForPreparationMs?: number };
  results: { srSopInstanceUID: string; scSopInstanceUID: string; stored: string[] };
}

/** A 3-slice scout-like series in the study (not a phase the selection picks). */
function extraSeries(study: SphereStudy, seed: string): SimpleCtSeries {
  const { name, id, birthDate } = study.patient;
  return makeSimpleCtSeries({
    seed,
    rows: 32,
    columns: 32,
    slices: 3,
    studyInstanceUID: study.studyInstanceUID,
    seriesNumber: 9,
    seriesDescription: 'Topogram',
    extra: { PatientName: name, PatientID: id, PatientBirthDate: birthDate },
  });
}

describe('prepare-ahead: analysed before StableStudy, stored only after (real Orthanc, tiny models)', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let node: RunningNode;
  let client: DicomWebClientHandle;
  const lines: string[] = [];
  const patients: SphereStudy['patient'][] = [];

  before(async () => {
    orthanc = await startOrthanc({ stableAgeSeconds: STABLE_AGE_S });
    const config = testNodeConfig(orthanc, { feed: { mode: 'poll', pollSchedule: '* * * * * *', prepareAhead: { enabled: true, quietSeconds: 0.5 } } });
    node = await startNode({ config, logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }), workerPollIntervalMs: 100 });
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
  });

  after(async () => {
    client?.close();
    await node?.stop({ timeoutMs: 5000 });
    if (node) rmSync(node.config.dataDir, { recursive: true, force: true });
    await orthanc?.stop();
  });

  const newStudy = (seed: string): SphereStudy => {
    const study = makeSphereStudy({ seed, patient: { name: `Prepwell^${seed}^Quintessa`, id: `PREP-${seed}-93`, birthDate: '19520811' } });
    patients.push(study.patient);
    return study;
  };
  const logged = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const waitForLog = async (msg: string, studyInstanceUID: string, count = 1): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (logged().filter((r) => r.msg === msg && r.studyInstanceUID === studyInstanceUID).length < count) {
      if (Date.now() > deadline) throw new Error(`no "${msg}" for ${studyInstanceUID} in the log`);
      await sleep(20);
    }
  };
  const analysedJob = (uid: string): Promise<Job> => waitForStudyJob(node.url, TOKEN, uid, (j) => isFinished(j) && j.resultUids !== undefined && j.resultUids.length > 0, 30_000);
  const metric = async (outcome: string): Promise<number> => {
    const text = (await call<string>(node.url, 'GET', '/metrics', { token: TOKEN })).body;
    const m = new RegExp(`^tsr_prepared_ahead_total\\{(?:node="[^"]+",)?outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
    if (!m) throw new Error(`no tsr_prepared_ahead_total{outcome="${outcome}"} in /metrics`);
    return Number(m[1]);
  };
  /** What the pipeline makes of the study as Orthanc holds it now (storing off). */
  const freshAnalysis = (uid: string): Promise<StudyPipelineResult> => {
    const { selection, results } = node.config;
    const device = nodeDevice(results.deviceName, results.institutionName);
    const pipeline: StudyPipeline = { dicomWeb: client, models: node.models, rules: selection, results: { ...results, store: false, device } };
    return analyseStudyPipeline(pipeline, uid, { store: false });
  };
  const fingerprintNow = async (uid: string): Promise<string> => {
    const instances = await client.searchInstances(uid, undefined, ['00080018']);
    return studyContentFingerprint(instances.map((i) => String(i['00080018']?.Value?.[0])));
  };

  it('a study quiet before StableStudy is prepared; its job only stores the results, which are those of the study', async () => {
    const usedBefore = await metric('used');
    const study = newStudy('prep-used');
    await uploadSphereStudy(orthanc, study);
    const job = await analysedJob(study.studyInstanceUID);
    expect(job.state).to.equal('done');
    const outcome = job.outcome as unknown as JobOutcomeView;
    expect(outcome.preparedAhead?.used, JSON.stringify(job.timingsMs)).to.be.true;
    // No retrieval (nor any other analysis stage) after StableStudy: only the store.
    const t = job.timingsMs ?? {};
    for (const stage of ['discover', 'select', 'retrieve', 'localise', 'crop', 'classify', 'buildResults']) expect(t[stage], stage).to.be.undefined;
    expect(t.store).to.be.a('number');
    expect(t.preparedAheadMs).to.be.above(0);
    expect(t['preparedAhead.retrieve']).to.be.a('number');
    expect(job.selection).to.have.property('analyzable', true);
    expect(await metric('used')).to.equal(usedBefore + 1);

    // The stored results are what a full analysis of the study gives.
    const fresh = await freshAnalysis(study.studyInstanceUID);
    expect(job.resultUids).to.have.members([fresh.results.sr.sopInstanceUID, fresh.results.sc.sopInstanceUID, fresh.results.seg.sopInstanceUID]);
    expect(outcome.results.stored).to.have.members(job.resultUids!);
    expect(outcome.label).to.equal(fresh.analysis.label);
    expect(outcome.probabilityHigh).to.be.closeTo(fresh.analysis.probabilityHigh, 1e-6);
    const sr = await client.searchInstances(study.studyInstanceUID, fresh.results.sr.seriesInstanceUID, ['00080018']);
    const sc = await client.searchInstances(study.studyInstanceUID, fresh.results.sc.seriesInstanceUID, ['00080018']);
    expect(sr).to.have.length(1);
    expect(sc).to.have.length(1);
  });

  it('an instance deleted after the preparation: the prepared result is discarded and the whole pipeline runs on the content Orthanc called stable', async () => {
    const discardedBefore = await metric('discarded');
    const study = newStudy('prep-deleted');
    const topogram = extraSeries(study, 'prep-deleted-topogram');
    await uploadSphereStudy(orthanc, study);
    for (const instance of topogram.instances) await orthanc.rest('POST', '/instances', instance.part10);
    await waitForLog('study prepared ahead; its job will only store the results', study.studyInstanceUID);
    // Deleting adds no NewInstance, so nothing is prepared again; Orthanc still calls the study stable.
    const [victim] = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', topogram.instances[2].sopInstanceUID);
    await orthanc.rest('DELETE', `/instances/${victim.ID}`);
    const finalFingerprint = await fingerprintNow(study.studyInstanceUID);

    const job = await analysedJob(study.studyInstanceUID);
    expect(job.fingerprint).to.equal(finalFingerprint);
    const outcome = job.outcome as unknown as JobOutcomeView;
    expect(outcome.preparedAhead?.used).to.be.false;
    expect(outcome.preparedAhead?.reason).to.match(/content/);
    const t = job.timingsMs ?? {};
    expect(t.retrieve).to.be.a('number');
    expect(t.preparedAheadMs).to.be.undefined;
    expect(await metric('discarded')).to.be.at.least(discardedBefore + 1);
    expect(lines.some((l) => l.includes('"msg":"prepared result discarded"') && l.includes('"reason":"content-changed"') && l.includes(study.studyInstanceUID))).to.be.true;
    const fresh = await freshAnalysis(study.studyInstanceUID);
    expect(job.resultUids).to.have.members([fresh.results.sr.sopInstanceUID, fresh.results.sc.sopInstanceUID, fresh.results.seg.sopInstanceUID]);
  });

  it('an instance added after the preparation: the study is prepared again, and the job uses only the preparation of its own content', async () => {
    const study = newStudy('prep-added');
    const topogram = extraSeries(study, 'prep-added-topogram');
    await uploadSphereStudy(orthanc, study);
    await orthanc.rest('POST', '/instances', topogram.instances[0].part10);
    await waitForLog('study prepared ahead; its job will only store the results', study.studyInstanceUID);
    const firstFingerprint = await fingerprintNow(study.studyInstanceUID);
    await orthanc.rest('POST', '/instances', topogram.instances[1].part10);

    const job = await analysedJob(study.studyInstanceUID);
    expect(job.fingerprint).to.not.equal(firstFingerprint);
    expect(job.fingerprint.split(':')[1]).to.equal(String(2 * 24 + 2));
    const outcome = job.outcome as unknown as JobOutcomeView;
    expect(outcome.preparedAhead?.used).to.be.true;
    expect(job.timingsMs?.retrieve).to.be.undefined;
    expect(lines.some((l) => l.includes('"msg":"prepared result discarded"') && l.includes('"reason":"replaced"') && l.includes(study.studyInstanceUID))).to.be.true;
  });

  it('the follow-up (our own SR and SC) is not prepared; the logs never name a patient', async () => {
    // Let the studies become stable again with our results, and pass their quiet time.
    await sleep((STABLE_AGE_S + 2) * 1000);
    const preparing = logged().filter((r) => r.msg === 'preparing a study ahead of StableStudy');
    const studies = new Set(preparing.map((r) => r.studyInstanceUID));
    // One preparation per content: prep-used 1, prep-deleted 1, prep-added 2.
    expect(preparing.length, JSON.stringify(preparing)).to.equal(4);
    expect(studies.size).to.equal(3);
    for (const r of logged()) if (r.jobId !== undefined) expect(r.studyInstanceUID, JSON.stringify(r)).to.be.a('string');
    const output = lines.join('\n');
    for (const patient of patients) {
      for (const piece of [patient.name, ...patient.name.split('^'), patient.id, patient.birthDate]) expect(output, piece).to.not.contain(piece);
    }
  });
});
