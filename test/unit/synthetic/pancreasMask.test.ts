import { expect } from 'chai';
import { rasterisePancreasMask } from '../../../src/synthetic';
import { generateStudy, planStudy } from '../../../src/synthetic/study';
import { rasteriseTumourMask } from '../../../src/synthetic/tumourMask';
import { assembleVolumeFromFiles } from '../../../src/study/volumeAssembly';
import type { HuVolume } from '../../../src/study/volume';

async function phaseVolume(study: ReturnType<typeof generateStudy>, phase: 'arterial' | 'venous'): Promise<HuVolume> {
  const uid = study.groundTruth.phases[phase].seriesInstanceUID;
  return assembleVolumeFromFiles(study.files.filter((f) => f.seriesInstanceUID === uid).map((f) => Buffer.from(f.bytes)));
}

function meanHu(volume: HuVolume, mask: Uint8Array, exclude?: Uint8Array): { mean: number; n: number } {
  let sum = 0;
  let n = 0;
  mask.forEach((m, v) => {
    if (!m || exclude?.[v]) return;
    sum += volume.data[v];
    n++;
  });
  return { mean: sum / n, n };
}

describe('the synthetic pancreas mask (rasterisePancreasMask)', function () {
  this.timeout(60_000);
  const options = { seed: 7, columns: 128, slices: 60, extras: 'none' as const };
  const study = generateStudy(options);

  it('plans the same study generateStudy writes (planStudy draws no pixels and changes no draw)', () => {
    expect(planStudy(options).study.studyInstanceUID).to.equal(study.studyInstanceUID);
    expect(generateStudy(options).files[3].bytes).to.deep.equal(study.files[3].bytes);
  });

  it('covers the voxels the renderer painted as pancreas, in each phase, and contains the tumour', async () => {
    for (const phase of ['arterial', 'venous'] as const) {
      const volume = await phaseVolume(study, phase);
      const pancreas = rasterisePancreasMask(options, phase, volume.geometry);
      const tumour = rasteriseTumourMask(study.groundTruth, phase, volume.geometry);
      const gland = meanHu(volume, pancreas, tumour);
      expect(gland.n).to.be.above(500);
      // Enhancing parenchyma (PHANTOM.md: about 95-128 HU in these phases), far above fat (< -50).
      expect(gland.mean, `${phase} gland`).to.be.within(70, 160);
      let tumourOutside = 0;
      tumour.forEach((t, v) => (tumourOutside += t && !pancreas[v] ? 1 : 0));
      expect(tumourOutside).to.equal(0);
    }
  });

  it('moves with breathing: each phase mask fits its own phase better than the other phase', async () => {
    const venous = await phaseVolume(study, 'venous');
    const own = rasterisePancreasMask(options, 'venous', venous.geometry);
    const other = rasterisePancreasMask(options, 'arterial', venous.geometry);
    // Seed 7's organs move about 9 mm in z between the phases.
    const shift = study.groundTruth.phases.venous.breathingShiftMm.map((v, a) => v - study.groundTruth.phases.arterial.breathingShiftMm[a]);
    expect(Math.hypot(...shift)).to.be.above(5);
    let differ = 0;
    own.forEach((m, v) => (differ += m !== other[v] ? 1 : 0));
    expect(differ).to.be.above(100);
    expect(meanHu(venous, own).mean).to.be.above(meanHu(venous, other).mean);
  });
});
