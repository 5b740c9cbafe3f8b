/**
 * A PACS outage during analysis, as an administrator sees it (issue: a long outage needs no
 * operator): a running node against a real Orthanc that is stopped (connections refused), then
 * replaced by a server that accepts connections and never answers (hung), then started again on
 * the same address with its data. No job fails, none spends an attempt on the outage, the node
 * says that it waits for the PACS, and it finishes the study by itself with one SR and one SC.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { startNode, type RunningNode } from '../../src/node/tsrNode';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { call, isFinished, sleep, testNodeConfig, waitForStudyJob } from './serveHarness';
import { makeSphereStudy, uploadSphereStudy } from './serveStudyFixture';

const TOKEN = 'test-token-0123456789abcdef';

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface HungServer {
  close(): Promise<void>;
}

/** A server that takes connections and never answers: a hung PACS. */
function startHungServer(port: number): Promise<HungServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ close }));
  });
}

describe('a PACS outage during analysis is ridden out (real Orthanc stopped, hung, started again)', function () {
  this.timeout(180_000);
  let orthanc: OrthancInstance | undefined;
  let node: RunningNode | undefined;
  let hung: HungServer | undefined;
  const dirs: string[] = [];

  after(async () => {
    await node?.stop({ timeoutMs: 1000 });
    await hung?.close();
    await orthanc?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refused, then hung: the job waits without spending attempts, the node says why, and ends done once Orthanc is back', async () => {
    const storageDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-outage-storage-'));
    dirs.push(storageDir);
    orthanc = await startOrthanc({ storageDir });
    const { port, password } = orthanc;
    const study = makeSphereStudy({ seed: 'pacs-outage' });
    await uploadSphereStudy(orthanc, study);
    const config = testNodeConfig(orthanc, {
      feed: { mode: 'webhook', prepareAhead: { enabled: false } },
      worker: { maxAttempts: 2, retryBaseDelayMs: 100, retryMaxDelayMs: 200, pacsProbeMaxIntervalMs: 500 },
      orthanc: { requestTimeoutMs: 2000, requestAttempts: 1 },
    });
    dirs.push(config.dataDir);
    // The job exists; then the PACS goes away (connections refused).
    const store = new SqliteJobStore({ path: config.dataDir });
    const { job } = await store.enqueue({ studyInstanceUID: study.studyInstanceUID, fingerprint: 'before-the-outage', source: 'manual' });
    await store.close();
    await orthanc.stop();
    orthanc = undefined;

    node = await startNode({ config, workerPollIntervalMs: 50 });
    await until(() => node!.worker.waitingFor !== undefined, 'the node to wait for the PACS');
    expect(node.worker.waitingFor?.name).to.equal('the PACS');
    const metrics = await call<string>(node.url, 'GET', '/metrics', { token: TOKEN });
    expect(metrics.body).to.match(/^tsr_worker_waiting_for_pacs(\{node="[^"]+"\})? 1$/m);
    // Far longer than two retries would take: still queued, no attempt spent.
    await sleep(1500);
    let current = await call<{ state: string; attempts: number }>(node.url, 'GET', `/api/jobs/${job.id}`, { token: TOKEN });
    expect(current.body).to.include({ state: 'queued', attempts: 0 });

    // Hung: connections are taken and never answered.
    hung = await startHungServer(port);
    await until(() => /latest probe: .*no answer/.test(node!.worker.waitingFor?.message ?? ''), 'a probe of the hung server to time out');
    current = await call(node.url, 'GET', `/api/jobs/${job.id}`, { token: TOKEN });
    expect(current.body).to.include({ state: 'queued', attempts: 0 });

    // Orthanc is back at the same address, with its data.
    await hung.close();
    hung = undefined;
    orthanc = await startOrthanc({ storageDir, port, password });
    const done = await waitForStudyJob(node.url, TOKEN, study.studyInstanceUID, isFinished, 60_000);
    expect(done.id).to.equal(job.id);
    expect(done.state, JSON.stringify(done.reason)).to.equal('done');
    expect(done.attempts, 'only the attempt that worked counts').to.equal(1);
    expect(done.resultUids).to.have.length(3);
    expect(node.worker.waitingFor).to.equal(undefined);
    const after = await call<string>(node.url, 'GET', '/metrics', { token: TOKEN });
    expect(after.body).to.match(/^tsr_worker_waiting_for_pacs(\{node="[^"]+"\})? 0$/m);
    // One SR and one SC in the PACS, not more.
    const series = await orthanc.rest<Array<{ MainDicomTags: { Modality: string } }>>('GET', `/studies/${(await orthanc.rest<string[]>('POST', '/tools/lookup', study.studyInstanceUID) as unknown as Array<{ ID: string }>)[0].ID}/series`);
    expect(series.filter((s) => s.MainDicomTags.Modality === 'SR')).to.have.length(1);
  });
});
