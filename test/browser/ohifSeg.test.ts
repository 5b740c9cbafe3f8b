/**
 * The tumour SEG as a radiologist sees it: the demo study (`tsr-node demo`'s synthetic study, seed
 * 7, 512 x 512 x 100 per phase) analysed by the shipped models (models/) through the whole
 * pipeline into a real Orthanc, then opened in OHIF 3.13.2 in headless Chromium. The SEG is
 * loaded over the portal-venous series, and where OHIF put the segment is checked against the
 * tumour's ground truth (from the generator), not only that it loads. The screenshot of the
 * outline on the CT goes to test-artifacts/ohif-seg.png (docs/images/ohif-seg.png is one of them).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { expect } from 'chai';
import express from 'express';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { releaseModels } from '../../src/inference/models';
import { loadModelSet, type ModelSet } from '../../src/inference/modelSet';
import { analyseStudyPipeline, type StudyPipeline, type StudyPipelineResult } from '../../src/pipeline/analyseStudy';
import { PROJECT_ROOT } from '../../src/paths';
import { nodeDevice } from '../../src/results/device';
import { DEFAULT_SEG_SERIES_DESCRIPTION } from '../../src/results/resultObjects';
import { tumourSegmentFrames } from '../../src/results/seg/segmentFrames';
import { indexToPatient, type Vec3 } from '../../src/study/geometry';
import { defaultSelectionRules } from '../../src/study/selectionRules';
import { generateStudy } from '../../src/synthetic';
import { ensureOhifDist } from '../../src/viewer/ohifDist';
import { createViewerRouter } from '../../src/viewer/viewerRouter';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
/** `tsr-node demo`'s defaults: seed 7, 512 columns, 100 slices per phase. */
const DEMO = { seed: 7, columns: 512, slices: 100 };

/** What OHIF holds of the loaded segmentation, read in the page from its services and cornerstone's cache. */
interface OhifSegment {
  segmentations: number;
  label: string;
  segmentIndices: number[];
  /** Voxels of segment 1 and their mean position in patient mm, from the labelmap and each referenced image's plane. */
  voxels: number;
  centroidMm: Vec3;
  /** Voxels of the segment on each image it touches, by the image's SOP Instance UID (from its WADO-RS image id). */
  voxelsByInstance: Record<string, number>;
  /** Series of the images the labelmap is drawn on, from their WADO-RS image ids. */
  referencedSeries: string[];
  /** Index in the viewport's stack of the image with the most segment voxels. */
  fullestSlice: number;
}

function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Pixels of a PNG in the segment's green (the SEG's Recommended Display CIELab Value), not grey CT. */
async function greenPixels(png: Buffer): Promise<number> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const data = ctx.getImageData(0, 0, image.width, image.height).data;
  let green = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i + 1] > 150 && data[i + 1] - data[i] > 60 && data[i + 1] - data[i + 2] > 30) green++;
  return green;
}

/** Reads the first segmentation OHIF holds: its segment's voxels in patient space, via cornerstone's metadata. */
async function ohifSegment(page: Page): Promise<OhifSegment | undefined> {
  return page.evaluate(() => {
    type Plane = { imagePositionPatient: number[]; rowCosines: number[]; columnCosines: number[]; rowPixelSpacing: number; columnPixelSpacing: number };
    const w = globalThis as unknown as {
      services: { segmentationService: { getSegmentations(): Array<{ label: string; segments: Record<string, unknown>; representationData: { Labelmap?: { imageIds?: string[]; referencedImageIds?: string[] } } }> } };
      cornerstone: { cache: { getImage(id: string): { columns: number; getPixelData(): ArrayLike<number> } | undefined }; metaData: { get(type: string, id: string): Plane | undefined } };
    };
    const segmentations = w.services.segmentationService.getSegmentations();
    const first = segmentations[0];
    const labelmap = first?.representationData.Labelmap;
    if (!first || !labelmap?.imageIds || !labelmap.referencedImageIds) return undefined;
    const sum = [0, 0, 0];
    let voxels = 0;
    let fullestSlice = -1;
    let fullest = 0;
    const voxelsByInstance: Record<string, number> = {};
    labelmap.imageIds.forEach((imageId, slice) => {
      const image = w.cornerstone.cache.getImage(imageId);
      const plane = w.cornerstone.metaData.get('imagePlaneModule', labelmap.referencedImageIds![slice]);
      if (!image || !plane) return;
      const pixels = image.getPixelData();
      const columns = image.columns;
      let here = 0;
      for (let n = 0; n < pixels.length; n++) {
        if (pixels[n] !== 1) continue;
        const column = n % columns;
        const row = Math.floor(n / columns);
        // PS3.3 C.7.6.2.1.1: position + column * column spacing * row cosines + row * row spacing * column cosines.
        for (let a = 0; a < 3; a++) sum[a] += plane.imagePositionPatient[a] + column * plane.columnPixelSpacing * plane.rowCosines[a] + row * plane.rowPixelSpacing * plane.columnCosines[a];
        here++;
      }
      voxels += here;
      if (here > 0) voxelsByInstance[/\/instances\/([0-9.]+)\//.exec(labelmap.referencedImageIds![slice])?.[1] ?? '?'] = here;
      if (here > fullest) {
        fullest = here;
        fullestSlice = slice;
      }
    });
    const series = labelmap.referencedImageIds.map((id) => /\/series\/([0-9.]+)\//.exec(id)?.[1] ?? '?');
    return {
      segmentations: segmentations.length,
      label: first.label,
      segmentIndices: Object.keys(first.segments).map(Number),
      voxels,
      centroidMm: sum.map((s) => s / Math.max(1, voxels)) as [number, number, number],
      voxelsByInstance,
      referencedSeries: [...new Set(series)],
      fullestSlice,
    };
  });
}

describe('viewer: OHIF shows the tumour SEG over the portal-venous series (demo study, shipped models)', function () {
  this.timeout(600_000);
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;
  let models: ModelSet;
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let result: StudyPipelineResult;
  let pipeline: StudyPipeline;
  const study = generateStudy(DEMO);
  const truthCentre = study.groundTruth.phases.venous.tumourCentre;

  before(async () => {
    const dist = await ensureOhifDist();
    orthanc = await startOrthanc();
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
    for (let i = 0; i < study.files.length; i += 25) await client.store(study.files.slice(i, i + 25).map((f) => f.bytes), study.studyInstanceUID);
    models = await loadModelSet({ dir: path.join(PROJECT_ROOT, 'models'), classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', pancreas: 'tsr-pancreas', intraOpThreads: 2, executionProvider: 'cpu' });
    pipeline = {
      dicomWeb: client,
      models,
      rules: defaultSelectionRules(),
      results: { store: true, srSeriesDescription: 'TSR AI report (research use)', scSeriesDescription: 'TSR AI overlay (research use)', device: nodeDevice('TSR-NODE') },
    };
    result = await analyseStudyPipeline(pipeline, study.studyInstanceUID);

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
    client?.close();
    if (models) await releaseModels(models);
    await orthanc?.stop();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  const base = (): string => `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  it('stores the SR, the SC and the SEG once: a second run of the pipeline adds nothing', async () => {
    const { sr, sc, seg } = result.results;
    expect(result.stored?.stored).to.have.members([sr.sopInstanceUID, sc.sopInstanceUID, seg.sopInstanceUID]);
    const again = await analyseStudyPipeline(pipeline, study.studyInstanceUID);
    expect(again.stored?.stored).to.deep.equal([]);
    expect(again.stored?.alreadyPresent).to.have.members([sr.sopInstanceUID, sc.sopInstanceUID, seg.sopInstanceUID]);
    for (const object of [sr, sc, seg]) {
      expect(await client.searchInstances(study.studyInstanceUID, object.seriesInstanceUID, ['00080018']), object.role).to.have.length(1);
    }
  });

  it('loads the SEG in OHIF over the portal-venous series, the segment where the tumour is', async () => {
    await page.goto(`${base()}/viewer?StudyInstanceUIDs=${study.studyInstanceUID}`);
    await page.getByText(DEFAULT_SEG_SERIES_DESCRIPTION).first().waitFor({ timeout: 120_000 });
    const skip = page.getByText('Skip all');
    await skip.waitFor({ timeout: 15_000 }).then(() => skip.click(), () => undefined);
    await page.getByText(DEFAULT_SEG_SERIES_DESCRIPTION).first().dblclick();
    // OHIF 3.13 asks before it turns the SEG into a segmentation of the viewport.
    const yes = page.getByRole('button', { name: /^Yes$/ });
    await yes.first().waitFor({ timeout: 60_000 });
    await yes.first().click();
    let segment: OhifSegment | undefined;
    for (let i = 0; i < 120 && !(segment && segment.voxels > 0); i++) {
      await page.waitForTimeout(500);
      segment = await ohifSegment(page);
    }
    expect(segment, 'OHIF holds the segmentation').to.not.equal(undefined);
    const held = segment!;
    expect(held.segmentations).to.equal(1);
    expect(held.segmentIndices).to.deep.equal([1]);
    expect(held.referencedSeries, 'drawn on the portal-venous series').to.deep.equal([study.groundTruth.phases.venous.seriesInstanceUID]);

    // Where OHIF put it is where the SEG says: on each image the voxels of the frame we wrote for it,
    // and their centroid to a fraction of a pixel.
    const g = result.analysis.venous.volumeGeometry;
    const frames = tumourSegmentFrames(result.analysis.tumourLocalisation, g);
    const written = [0, 0, 0];
    const writtenByInstance: Record<string, number> = {};
    let count = 0;
    for (const frame of frames) {
      const sopInstanceUID = result.analysis.venous.sourceSopInstanceUIDs[frame.sliceIndex];
      frame.mask.forEach((inside, n) => {
        if (!inside) return;
        indexToPatient(g, n % g.dims[0], Math.floor(n / g.dims[0]), frame.sliceIndex).forEach((x, a) => (written[a] += x));
        writtenByInstance[sopInstanceUID] = (writtenByInstance[sopInstanceUID] ?? 0) + 1;
        count++;
      });
    }
    expect(held.voxels).to.equal(count);
    expect(held.voxelsByInstance).to.deep.equal(writtenByInstance);
    expect(distance(held.centroidMm, written.map((x) => x / count) as Vec3)).to.be.below(0.5);
    // And it is on the tumour: its centroid within a third of the tumour's diameter of the ground truth centre.
    const diameter = study.groundTruth.tumour.diameterMm;
    expect(distance(held.centroidMm, truthCentre), `centroid ${held.centroidMm.map((x) => x.toFixed(1)).join(', ')} vs truth ${truthCentre.join(', ')}`).to.be.below(diameter / 3);
  });

  it('draws the outline on the slice through the tumour (screenshot test-artifacts/ohif-seg.png)', async () => {
    const held = (await ohifSegment(page))!;
    // The slice with the most of the segment, in an abdominal window (W 400, L 40).
    await page.evaluate((slice) => {
      const w = globalThis as unknown as { cornerstone: { getEnabledElements(): Array<{ viewport: { setImageIdIndex(i: number): Promise<unknown>; setProperties(p: unknown): void; render(): void } }> } };
      const viewport = w.cornerstone.getEnabledElements()[0].viewport;
      return viewport.setImageIdIndex(slice).then(() => {
        viewport.setProperties({ voiRange: { lower: -160, upper: 240 } });
        viewport.render();
      });
    }, held.fullestSlice);
    const viewport = page.locator('[data-cy="viewport-pane"]').first();
    let green = 0;
    for (let i = 0; i < 30 && green < 200; i++) {
      await page.waitForTimeout(500);
      green = await greenPixels(await viewport.screenshot());
    }
    expect(green, 'the segment drawn in its colour').to.be.above(200);
    await page.screenshot({ path: path.join(ARTIFACTS, 'ohif-seg.png') });
  });
});
