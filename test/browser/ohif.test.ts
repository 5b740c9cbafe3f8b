/**
 * The results as a radiologist sees them: OHIF 3.13.2 (prebuilt, served by src/viewer) in headless
 * Chromium (Debian's /usr/bin/chromium), against a real Orthanc holding a dual-phase study and the
 * node's SR, SC and SEG (the SEG over the demo study: ohifSeg.test.ts). Screenshots go to test-artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadImage, createCanvas } from '@napi-rs/canvas';
import { expect } from 'chai';
import express from 'express';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDicomWebClient } from '../../src/dicomweb/client';
import { PROJECT_ROOT } from '../../src/paths';
import { nodeDevice } from '../../src/results/device';
import { buildTsrResults, DEFAULT_SEG_SERIES_DESCRIPTION, resultObjectsOf, type TsrResults } from '../../src/results/resultObjects';
import { storeResults } from '../../src/results/store';
import { ensureOhifDist } from '../../src/viewer/ohifDist';
import { createViewerRouter } from '../../src/viewer/viewerRouter';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeTsrFixture } from '../unit/results/tsrFixture';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
const SR_DESCRIPTION = 'TSR AI report (research use)';
const SC_DESCRIPTION = 'TSR AI overlay (research use)';

/** Colour statistics of a PNG: how many distinct colours, how many strongly red pixels. */
async function pngStats(png: Buffer): Promise<{ colours: number; red: number; bright: number }> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height).data;
  const colours = new Set<number>();
  let red = 0;
  let bright = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (r > 180 && g < 90 && b < 90) red++;
    if (r > 200 && g > 200 && b > 200) bright++;
  }
  return { colours: colours.size, red, bright };
}

describe('viewer: OHIF shows the SR and the SC (real Chromium, real Orthanc)', function () {
  this.timeout(300_000);
  let orthanc: OrthancInstance;
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let results: TsrResults;
  const fixture = makeTsrFixture({ size: 128, slices: 20 });

  before(async () => {
    const dist = await ensureOhifDist(); // the first run downloads about 50 MB with npm
    orthanc = await startOrthanc();
    for (const series of [fixture.series.arterial, fixture.series.venous]) {
      for (const instance of series.instances) await orthanc.rest('POST', '/instances', instance.part10);
    }
    results = buildTsrResults({
      analysis: fixture.analysis,
      sourceMetadata: fixture.sourceMetadata,
      device: nodeDevice('TSR-NODE'),
      srSeriesDescription: SR_DESCRIPTION,
      scSeriesDescription: SC_DESCRIPTION,
      now: new Date('2025-03-01T10:20:30Z'),
    });
    const client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
    await storeResults(client, fixture.studyInstanceUID, resultObjectsOf(results));
    client.close();

    const app = express();
    app.use(createViewerRouter({ ohifDistDir: dist, dicomWebUrl: orthanc.dicomWebUrl, authorization: orthanc.authorization }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));

    userDataDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', args: CHROMIUM_FLAGS, viewport: { width: 1600, height: 1000 } });
    page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await orthanc?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  const base = (): string => `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  it('serves app-config.js and proxies QIDO-RS with the PACS credentials (none in the page)', async () => {
    const config = await (await fetch(`${base()}/app-config.js`)).text();
    expect(config).to.contain('window.config');
    expect(config).to.not.contain(orthanc.password);
    // OHIF's %2C-encoded includefield must reach Orthanc as a list: SliceThickness is not a default field.
    const series = (await (await fetch(`${base()}/dicom-web/studies/${fixture.studyInstanceUID}/series?includefield=0008103E%2C00180050`)).json()) as Array<
      Record<string, { Value?: unknown[] } | undefined>
    >;
    expect(series).to.have.length(5);
    const ct = series.filter((s) => s['00080060']?.Value?.[0] === 'CT');
    expect(ct.map((s) => s['00180050']?.Value?.[0])).to.deep.equal([2.5, 2.5]);
    const post = await fetch(`${base()}/dicom-web/studies`, { method: 'POST' });
    expect(post.status).to.equal(405);
  });

  it('lists the SR, SC and SEG series of the study, with nothing fetched from outside', async () => {
    const external: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(base()) && !url.startsWith('data:') && !url.startsWith('blob:')) external.push(url);
    });
    await page.goto(`${base()}/viewer?StudyInstanceUIDs=${fixture.studyInstanceUID}`);
    await page.getByText(SC_DESCRIPTION).first().waitFor({ timeout: 90_000 });
    await page.getByText(SR_DESCRIPTION).first().waitFor({ timeout: 30_000 });
    await page.getByText(DEFAULT_SEG_SERIES_DESCRIPTION).first().waitFor({ timeout: 30_000 });
    // The first-visit tour: dismiss it if it is there.
    const skip = page.getByText('Skip all');
    await skip.waitFor({ timeout: 15_000 }).then(() => skip.click(), () => undefined);
    expect(external).to.deep.equal([]);
  });

  it('renders the overlay SC: the heatmap and the text band are on the viewport', async () => {
    await page.getByText(SC_DESCRIPTION).first().dblclick();
    const viewport = page.locator('[data-cy="viewport-pane"]').first();
    await viewport.getByText(SC_DESCRIPTION).waitFor({ timeout: 30_000 });
    // Rendering is asynchronous: poll until the canvas shows colour.
    let stats = { colours: 0, red: 0, bright: 0 };
    for (let i = 0; i < 30 && stats.red < 500; i++) {
      await page.waitForTimeout(500);
      stats = await pngStats(await viewport.screenshot());
    }
    expect(stats.colours, 'not a blank canvas').to.be.greaterThan(200);
    expect(stats.red, 'the saliency hot spot').to.be.greaterThan(500);
    expect(stats.bright, 'text').to.be.greaterThan(200);
    await page.screenshot({ path: path.join(ARTIFACTS, 'ohif-sc.png') });
  });

  it("shows the SR's TSR result and probability as text on the key slice", async () => {
    const label = page.locator('svg text', { hasText: 'Tumour-stroma ratio: High (P(high) 0.87)' }).first();
    // OHIF 3.13 sometimes loads the SR viewport without drawing its annotation (about 1 run in 6
    // here, an OHIF race); a person would reload the page and open the SR again, and so does the test.
    let shown = false;
    for (let attempt = 0; attempt < 4 && !shown; attempt++) {
      if (attempt > 0) {
        await page.reload();
        await page.getByText(SR_DESCRIPTION).first().waitFor({ timeout: 60_000 });
        await page.waitForTimeout(2000);
      }
      await page.getByText(SR_DESCRIPTION).first().dblclick();
      shown = await label.waitFor({ timeout: 8_000 }).then(
        () => true,
        () => false,
      );
      if (!shown) {
        // A re-render of the viewport (one slice away and back) usually draws the missing annotation.
        const viewport = page.locator('[data-cy="viewport-pane"]').first();
        await viewport.hover();
        await page.mouse.wheel(0, 120);
        await page.waitForTimeout(500);
        await page.mouse.wheel(0, -120);
        shown = await label.waitFor({ timeout: 5_000 }).then(
          () => true,
          () => false,
        );
      }
    }
    if (!shown) await page.screenshot({ path: path.join(ARTIFACTS, 'ohif-sr-failure.png') });
    expect(shown, 'SR labels on the key slice (see test-artifacts/ohif-sr-failure.png)').to.equal(true);
    const texts = await page.locator('svg text').allTextContents();
    const all = texts.join('\n');
    expect(all).to.contain('Tumour-stroma ratio: High (P(high) 0.87)');
    expect(all).to.contain('Probability of high tumour-stroma ratio: 0.87');
    expect(all).to.match(/Diameter: \d+\.\d\d mm/);
    expect(all).to.contain('Research use only - not for diagnostic use');
    // It is drawn over the venous key slice the SR points at.
    await page.locator('[data-cy="viewport-pane"]').first().getByText('Portal venous phase 1.0 mm').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'ohif-sr.png') });
  });
});
