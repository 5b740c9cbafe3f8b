import { expect } from 'chai';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AnalysisRefusedError } from '../../../src/errors';
import { analyseStudy } from '../../../src/inference/analyse';
import { releaseModels } from '../../../src/inference/models';
import { loadModelSet, type ModelSet } from '../../../src/inference/modelSet';
import { extractCrop } from '../../../src/inference/preprocessing';
import { toPrintable } from '../../../src/inference/result';
import { patientToIndex, type Vec3 } from '../../../src/study/geometry';
import { SMALL_AXIAL, sphereVolume } from './sphereVolumes';

const FIXTURES = path.resolve(__dirname, '../../fixtures/tiny-models');

function distance(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

describe('inference/analyse: localise, crop, classify (tiny fixture models)', () => {
  let models: ModelSet;
  before(async () => {
    models = await loadModelSet({ dir: FIXTURES, classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', intraOpThreads: 1, executionProvider: 'cpu' });
  });
  after(async () => releaseModels(models));

  const venousCentre: Vec3 = [10, -8, 5];
  const arterialCentre: Vec3 = [13, -6, 2]; // a breathing shift of a few mm
  const venous = sphereVolume({ geometry: SMALL_AXIAL, spheres: [{ centreMm: venousCentre, radiusMm: 10, hu: 200 }], seriesInstanceUID: '2.25.2' });
  const arterial = sphereVolume({ geometry: SMALL_AXIAL, spheres: [{ centreMm: arterialCentre, radiusMm: 10, hu: 260 }], seriesInstanceUID: '2.25.1' });

  it('finds the tumour in the venous phase, refines it in the arterial phase and classifies the crops', async () => {
    const { analysis, crops, localisation } = await analyseStudy(models, { arterial, venous });
    expect(distance(analysis.tumour.centreMm, venousCentre)).to.be.below(2);
    expect(distance(analysis.arterial.tumourCentreMm, arterialCentre)).to.be.below(2);
    expect(localisation.arterial.refined).to.be.true;
    // The venous localisation is what the results' SEG is made from: its grid, peak and level.
    expect(analysis.tumourLocalisation.grid).to.equal(localisation.venous.grid);
    expect(analysis.tumourLocalisation.peakIndex).to.deep.equal(localisation.venous.finding?.peakIndex);
    expect(analysis.tumourLocalisation.level).to.equal(localisation.venous.finding?.level);
    expect(analysis.venous.volumeGeometry).to.deep.equal(venous.geometry);
    expect(analysis.tumour.diameterMm).to.be.within(14, 26);
    expect(analysis.tumour.confidence).to.be.above(0.9);

    // The classifier saw exactly the shared preprocessing's crops at the found centres.
    const expectedArterial = extractCrop(arterial, analysis.arterial.tumourCentreMm, models.classifier.crop);
    expect(Buffer.from(crops.arterial.buffer).equals(Buffer.from(expectedArterial.buffer))).to.be.true;
    // The tiny fused model: P(high) = sigmoid(2 * (mean arterial centre channel - mean venous centre channel)).
    const mean = (c: Float32Array): number => c.subarray(4096, 8192).reduce((a, b) => a + b, 0) / 4096;
    const z = 2 * (mean(crops.arterial) - mean(crops.venous));
    expect(analysis.probabilityHigh).to.be.closeTo(1 / (1 + Math.exp(-z)), 1e-4);
    expect(analysis.label).to.equal(analysis.probabilityHigh >= 0.5 ? 'high' : 'low');
    expect(analysis.threshold).to.equal(0.5);
    expect(analysis.classifier.name).to.equal('tsr-clip-fusion');
    expect(analysis.models.find((model) => model.role === 'localizer')?.sha256).to.equal(models.localizer.identity.sha256);
    for (const key of ['localise', 'crop', 'classify', 'keySlices', 'total', 'onnx']) expect(analysis.timingsMs[key]).to.be.a('number');
  });

  it('describes each phase on its key slice: SOP instance, centre pixel, outline, saliency and HU', async () => {
    const { analysis } = await analyseStudy(models, { arterial, venous });
    for (const [finding, volume] of [[analysis.venous, venous], [analysis.arterial, arterial]] as const) {
      const idx = patientToIndex(volume.geometry, finding.tumourCentreMm);
      expect(finding.keySliceIndex).to.equal(Math.round(idx[2]));
      expect(finding.keySopInstanceUID).to.equal(volume.sopInstanceUIDs[finding.keySliceIndex]);
      expect(finding.seriesInstanceUID).to.equal(volume.seriesInstanceUID);
      expect(finding.tumourCentrePixel[0]).to.be.closeTo(idx[0], 1e-9);
      expect(finding.pixelSpacingMm).to.deep.equal([2, 2]);
      expect(finding.sourceSopInstanceUIDs).to.have.length(30);
      expect(finding.sopClassUID).to.equal('1.2.840.10008.5.1.4.1.1.2');
      expect(finding.keySliceHu.data.length).to.equal(64 * 64);
      expect(finding.keySliceHu.data[finding.keySliceIndex >= 0 ? Math.round(idx[1]) * 64 + Math.round(idx[0]) : 0]).to.be.above(150);
      // The outline surrounds the centre at about the sphere's radius on that slice (<= 10 mm, 2 mm pixels).
      expect(finding.outlinePixels.length).to.be.above(8);
      for (const [c, r] of finding.outlinePixels) {
        const mm = Math.hypot((c - idx[0]) * 2, (r - idx[1]) * 2);
        expect(mm).to.be.within(3, 15);
      }
      // Saliency: the tiny model's sigmoid of the crop, high inside the sphere, 0 beyond the 80 mm crop.
      const sal = finding.saliency;
      expect(sal.columns).to.equal(64);
      expect(sal.data[Math.round(idx[1]) * 64 + Math.round(idx[0])]).to.be.above(0.5);
      expect(sal.data[0]).to.equal(0);
    }
    const printable = toPrintable(analysis);
    expect(JSON.stringify(printable)).to.not.contain('keySliceHu');
    expect(printable).to.not.have.property('tumourLocalisation');
    expect((printable.venous as Record<string, unknown>).sourceImageCount).to.equal(30);
  });

  it('keeps the venous centre for the arterial phase when the arterial localiser is not confident near it', async () => {
    const plainArterial = sphereVolume({ geometry: SMALL_AXIAL, spheres: [{ centreMm: [-40, 40, 0], radiusMm: 8, hu: 260 }], seriesInstanceUID: '2.25.1' });
    const { analysis, localisation } = await analyseStudy(models, { arterial: plainArterial, venous });
    expect(localisation.arterial.refined).to.be.false;
    expect(analysis.arterial.tumourCentreMm).to.deep.equal(analysis.venous.tumourCentreMm);
  });

  it("refuses with 'tumour-not-found' when the localiser is not confident: no guess", async () => {
    const empty = sphereVolume({ geometry: SMALL_AXIAL, spheres: [], seriesInstanceUID: '2.25.2' });
    try {
      await analyseStudy(models, { arterial, venous: empty });
      expect.fail('analysed a study without a tumour');
    } catch (err) {
      expect(err).to.be.instanceOf(AnalysisRefusedError);
      expect((err as AnalysisRefusedError).code).to.equal('tumour-not-found');
      expect((err as AnalysisRefusedError).details?.confidence).to.be.below(0.5);
    }
  });

  it("refuses with 'tumour-not-localised' when the localiser's response is diffuse, not a tumour", async () => {
    // The same tiny localiser read on an 8 mm grid (256 x 256 x 128 mm): a volume bright everywhere lights it all.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-coarse-'));
    try {
      for (const f of ['tsr-localizer.onnx', 'tsr-clip-fusion.onnx', 'tsr-clip-fusion.json']) copyFileSync(path.join(FIXTURES, f), path.join(dir, f));
      const manifest = JSON.parse(readFileSync(path.join(FIXTURES, 'tsr-localizer.json'), 'utf8')) as { preprocessing: { localizer: { voxelMm: number } } };
      manifest.preprocessing.localizer.voxelMm = 8;
      writeFileSync(path.join(dir, 'tsr-localizer.json'), JSON.stringify(manifest));
      const coarse = await loadModelSet({ dir, classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', intraOpThreads: 1, executionProvider: 'cpu' });
      const big = { ...SMALL_AXIAL, dims: [128, 128, 60] as [number, number, number], origin: [-127, -127, -74.25] as [number, number, number] };
      const bright = sphereVolume({ geometry: big, spheres: [], backgroundHu: 250, seriesInstanceUID: '2.25.2' });
      try {
        await analyseStudy(coarse, { arterial: { ...bright, seriesInstanceUID: '2.25.1' }, venous: bright });
        expect.fail('reported a diffuse response as a tumour');
      } catch (err) {
        expect((err as AnalysisRefusedError).code).to.equal('tumour-not-localised');
        expect((err as AnalysisRefusedError).details?.diameterMm).to.be.above(150);
      } finally {
        await releaseModels(coarse);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses with 'frame-of-reference-mismatch' when the phases do not share a frame of reference", async () => {
    const other = { ...arterial, frameOfReferenceUID: '2.25.999' };
    try {
      await analyseStudy(models, { arterial: other, venous });
      expect.fail('analysed across frames of reference');
    } catch (err) {
      expect((err as AnalysisRefusedError).code).to.equal('frame-of-reference-mismatch');
    }
  });

  it('gives the same result for the same input (models reused, nothing reloaded)', async () => {
    const a = await analyseStudy(models, { arterial, venous });
    const b = await analyseStudy(models, { arterial, venous });
    expect(b.analysis.probabilityHigh).to.equal(a.analysis.probabilityHigh);
    expect(b.analysis.tumour).to.deep.equal(a.analysis.tumour);
    expect(b.analysis.venous.outlinePixels).to.deep.equal(a.analysis.venous.outlinePixels);
  });
});
