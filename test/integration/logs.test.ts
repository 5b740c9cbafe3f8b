/**
 * The node's logs: structured JSON lines, every job line carrying jobId and studyInstanceUID, and
 * never a patient name, ID or birth date. Real jobs in a `tsr-node serve` child process against a
 * real Orthanc, on studies whose patients have distinctive identities; everything the process
 * writes (stdout and stderr, at debug level) is searched.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { Job } from '../../src/jobs/jobStore';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { call, isFinished, runCli, sleep, testNodeConfig, waitForJob, waitForStudyJob, writeConfigFile } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy, type SphereStudy } from './serveStudyFixture';

describe('logs: structured, with job context, and without patient identity (real jobs)', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let output = '';
  let dataDir = '';
  const studies: SphereStudy[] = [
    makeSphereStudy({ seed: 'logs-ascii', patient: { name: 'Quokkafield^Zebedee^Marmaduke', id: 'PID-7355608', birthDate: '19470318' } }),
    makeSphereStudy({ seed: 'logs-cjk', patient: { name: '山田^花子=ヤマダ^ハナコ', id: 'MRN-88X41Q', birthDate: '19830927' } }),
    makeSphereStudy({ seed: 'logs-single', patient: { name: 'Wimbleworth^Ottoline', id: 'HOSP-5550123', birthDate: '20010704' } }),
  ];
  const jobIds: number[] = [];

  before(async () => {
    orthanc = await startOrthanc({ stableAgeSeconds: 1 });
    const config = testNodeConfig(orthanc, { logLevel: 'debug' });
    dataDir = config.dataDir;
    const token = config.api.token!;
    const child = runCli(['serve', '--config', writeConfigFile(config)]);
    try {
      const url = await child.url;
      // Through the change feed: two analysable studies and a single-phase one.
      await uploadSphereStudy(orthanc, studies[0]);
      await uploadSphereStudy(orthanc, studies[1]);
      await uploadSphereStudy(orthanc, studies[2], ['venous']);
      for (const s of studies) jobIds.push((await waitForStudyJob(url, token, s.studyInstanceUID, isFinished)).id);
      // A manual re-run and a retry as well.
      const r = await call<{ job: Job }>(url, 'POST', `/api/studies/${studies[0].studyInstanceUID}/analyze`, { token });
      await waitForJob(url, token, r.body.job.id, isFinished);
      await call(url, 'POST', `/api/jobs/${jobIds[2]}/retry`, { token });
      await waitForJob(url, token, jobIds[2], (j) => isFinished(j) && j.attempts === 1);
      await sleep(2500); // our own results make the studies stable again: let those jobs run too
    } finally {
      child.child.kill('SIGTERM');
      await child.exited;
      output = child.output();
    }
  });

  after(async () => {
    await orthanc?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('ran the jobs (done, done, skipped) and logged them', () => {
    expect(jobIds).to.have.length(3);
    expect(output).to.contain('"msg":"study analysed"');
    expect(output).to.contain('"code":"single-phase"');
  });

  it('never writes a patient name, a part of it, an ID or a birth date', () => {
    // The search is live: the studies' UIDs are in the output.
    for (const s of studies) expect(output).to.contain(s.studyInstanceUID);
    for (const { patient } of studies) {
      const pieces = [patient.name, ...patient.name.split(/[\^=]/).filter((p) => p.length >= 2), patient.id, patient.birthDate, `${patient.birthDate.slice(0, 4)}-${patient.birthDate.slice(4, 6)}-${patient.birthDate.slice(6)}`];
      for (const piece of pieces) expect(output, `"${piece}" appears in the log`).to.not.contain(piece);
      // JSON-escaped forms of non-ASCII text, too.
      for (const piece of pieces) expect(output).to.not.contain(JSON.stringify(piece).slice(1, -1));
    }
  });

  it('writes JSON lines, and every line about a job carries jobId and studyInstanceUID', () => {
    const lines = output.split('\n').filter((l) => l.trim() !== '');
    const records: Array<Record<string, unknown>> = [];
    for (const line of lines) {
      if (line.startsWith('tsr-node ') || line.startsWith('API token:')) continue; // the CLI's own words to the administrator
      records.push(JSON.parse(line) as Record<string, unknown>);
    }
    expect(records.length).to.be.greaterThan(20);
    for (const r of records) {
      expect(r.time).to.be.a('string');
      expect(r.level).to.be.oneOf(['debug', 'info', 'warn', 'error']);
      expect(r.msg).to.be.a('string');
      if (r.jobId !== undefined) expect(r.studyInstanceUID, JSON.stringify(r)).to.be.a('string');
    }
    for (const msg of ['job attempt started', 'phases selected', 'series retrieved', 'study analysed', 'results stored', 'job attempt ended']) {
      const withMsg = records.filter((r) => r.msg === msg);
      expect(withMsg.length, msg).to.be.greaterThan(0);
      for (const r of withMsg) {
        expect(r.jobId, `${msg}: ${JSON.stringify(r)}`).to.be.a('number');
        expect(r.studyInstanceUID, `${msg}: ${JSON.stringify(r)}`).to.be.a('string');
      }
    }
    for (const id of jobIds) expect(records.some((r) => r.jobId === id), `job ${id}`).to.be.true;
  });
});
