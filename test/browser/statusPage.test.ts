/**
 * The status page as an administrator uses it, in headless Chromium (Debian's /usr/bin/chromium)
 * with playwright-core: log in with the token, read the jobs table (state, result, reason,
 * timings), re-run a job, open a job's selection explanation, and follow a study's link into the
 * OHIF viewer served by the node. Real node, real Orthanc, tiny fixture models. Screenshots go to
 * test-artifacts/ (docs/images/status-page.png is one of them).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { silentLogger } from '../../src/logging/logger';
import { startNode, type RunningNode } from '../../src/node/tsrNode';
import { PROJECT_ROOT } from '../../src/paths';
import { ensureOhifDist } from '../../src/viewer/ohifDist';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries } from '../harness/simpleCtSeries';
import { call, isFinished, sleep, testNodeConfig, waitForJob } from '../integration/serveHarness';
import { makeSphereStudy, uploadSphereStudy } from '../integration/serveStudyFixture';
import type { Job } from '../../src/jobs/jobStore';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');

describe('status page in Chromium (real node, real Orthanc)', function () {
  this.timeout(300_000);
  let orthanc: OrthancInstance;
  let node: RunningNode;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  const analysed = makeSphereStudy({ seed: 'status-page-a' });
  const second = makeSphereStudy({ seed: 'status-page-b' });
  const single = makeSphereStudy({ seed: 'status-page-single' });
  const mr = makeSimpleCtSeries({ seed: 'status-page-mr', slices: 20, seriesDescription: 'T2 axial', extra: { Modality: 'MR', SOPClassUID: '1.2.840.10008.5.1.4.1.1.4' } });
  const jobs: Record<string, Job> = {};

  before(async () => {
    const dist = await ensureOhifDist();
    orthanc = await startOrthanc({ stableAgeSeconds: 1 });
    const config = testNodeConfig(orthanc, { feed: { mode: 'webhook' }, api: { ohifViewer: true } });
    node = await startNode({ config, logger: silentLogger, ohifDistDir: dist, workerPollIntervalMs: 100 });
    expect(await node.viewerReady).to.be.true;
    await uploadSphereStudy(orthanc, analysed);
    await uploadSphereStudy(orthanc, second);
    await uploadSphereStudy(orthanc, single, ['arterial']);
    for (const i of mr.instances) await orthanc.rest('POST', '/instances', i.part10);
    const token = config.api.token!;
    for (const [name, uid] of [
      ['analysed', analysed.studyInstanceUID],
      ['second', second.studyInstanceUID],
      ['single', single.studyInstanceUID],
      ['mr', mr.studyInstanceUID],
    ] as const) {
      const r = await call<{ job: Job }>(node.url, 'POST', `/api/studies/${uid}/analyze`, { token });
      jobs[name] = await waitForJob(node.url, token, r.body.job.id, isFinished);
    }

    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, viewport: { width: 1440, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await node?.stop({ timeoutMs: 5000 });
    if (node) rmSync(node.config.dataDir, { recursive: true, force: true });
    await orthanc?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('asks for the token, and refuses a wrong one', async () => {
    await page.goto(`${node.url}/`);
    expect(new URL(page.url()).pathname).to.equal('/login');
    await page.fill('input[name="token"]', 'definitely-not-the-token');
    await page.click('button[type="submit"]');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).to.contain('not the API token');
  });

  it('shows the jobs with state, result, reason and timings after login', async () => {
    await page.fill('input[name="token"]', node.token);
    await page.click('button[type="submit"]');
    await page.locator('table.jobs').waitFor();
    expect(new URL(page.url()).pathname).to.equal('/');
    expect(await page.locator('section.readiness h2').textContent()).to.equal('Ready');

    const row = (job: Job) => page.locator(`tr[data-job-id="${job.id}"]`);
    expect(await row(jobs.analysed).locator('.state').textContent()).to.equal('done');
    const label = (jobs.analysed.outcome as { label: string }).label;
    expect(await row(jobs.analysed).locator('.result').textContent()).to.match(new RegExp(`^${label === 'high' ? 'High' : 'Low'} TSR \\(P\\(high\\) \\d\\.\\d\\d\\)$`));
    expect(await row(jobs.analysed).locator('td').nth(6).textContent()).to.match(/^\d+(\.\d+)? (ms|s)$/);
    expect(await row(jobs.single).locator('.state').textContent()).to.equal('skipped');
    expect(await row(jobs.single).locator('.reason code').textContent()).to.equal('single-phase');
    expect(await row(jobs.mr).locator('.reason code').textContent()).to.equal('no-ct-series');
    const href = await row(jobs.analysed).locator('a.viewer-link').getAttribute('href');
    expect(href).to.equal(`/viewer?StudyInstanceUIDs=${analysed.studyInstanceUID}`);
    // The page never holds the token.
    expect(await page.content()).to.not.contain(node.token);
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-page.png'), fullPage: true });
  });

  it('filters by state', async () => {
    await page.click('nav.filters a[href="/?state=skipped"]');
    await page.locator('table.jobs').waitFor();
    const states = await page.locator('table.jobs tbody .state').allTextContents();
    expect(states.length).to.equal(2);
    expect(states.every((s) => s === 'skipped')).to.be.true;
    await page.click('nav.filters a[href="/"]');
    await page.waitForURL((url) => url.search === '');
  });

  it('re-runs a skipped job from its button (POST with the CSRF token)', async () => {
    const before = (await node.store.get(jobs.single.id))!;
    // The page reloads itself once the POST is answered; a reload of ours before that one has
    // finished would be aborted by it.
    const reloaded = page.waitForEvent('load');
    await page.locator(`tr[data-job-id="${jobs.single.id}"] button[data-retry]`).click();
    await reloaded;
    const after = await waitForJob(node.url, node.token, jobs.single.id, (j) => isFinished(j) && j.finishedAt !== before.finishedAt);
    expect(after.state).to.equal('skipped');
    await page.reload();
    expect(await page.locator(`tr[data-job-id="${jobs.single.id}"] .state`).textContent()).to.equal('skipped');
  });

  it("opens a job's page with the phase-selection explanation", async () => {
    await page.click(`tr[data-job-id="${jobs.analysed.id}"] td:first-child a`);
    await page.locator('table.candidates').waitFor();
    const text = await page.locator('main').textContent();
    expect(text).to.contain('Pancreatic phase 2.5 mm');
    expect(text).to.contain('Portal venous phase 2.5 mm');
    expect(text).to.contain(analysed.studyInstanceUID);
    expect(await page.locator('table.timings th').allTextContents()).to.include.members(['retrieve', 'classify', 'store']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'status-job.png'), fullPage: true });
  });

  it("follows a study's link into the OHIF viewer, which lists the node's SR and SC", async () => {
    await page.goto(`${node.url}/`);
    const [viewer] = await Promise.all([context.waitForEvent('page'), page.locator(`tr[data-job-id="${jobs.analysed.id}"] a.viewer-link`).click()]);
    await viewer.getByText(node.config.results.scSeriesDescription).first().waitFor({ timeout: 120_000 });
    await viewer.getByText(node.config.results.srSeriesDescription).first().waitFor({ timeout: 30_000 });
    await sleep(500);
    await viewer.screenshot({ path: path.join(ARTIFACTS, 'status-viewer.png') });
    await viewer.close();
  });
});
