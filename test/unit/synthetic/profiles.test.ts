/**
 * Centre profiles as data: every file in src/synthetic/profiles/ is valid, held-out profiles are
 * refused for training, unknown names are explained, the baseline profile is the old generator,
 * and every profile's studies stay inside the node's selection limits.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDataset } from '../../../src/dataset/buildDataset';
import { defaultSelectionRules } from '../../../src/study/selectionRules';
import { CENTRE_PROFILE_NAMES, checkTrainingProfile, generateStudy, loadCentreProfile, parseCentreProfile, writeStudyToFolder, type SyntheticStudy } from '../../../src/synthetic';
import { isHeldOutProfile } from '../../../src/synthetic/profiles';

const digest = (study: SyntheticStudy): string => {
  const hash = createHash('sha256');
  for (const file of study.files) hash.update(file.relativePath).update(file.bytes);
  return hash.update(JSON.stringify(study.groundTruth)).digest('hex');
};

describe('synthetic: centre profiles', function () {
  this.timeout(60_000);

  it('lists the baseline, the two training profiles and at least two held-out centres, each valid and named like its file', () => {
    expect(CENTRE_PROFILE_NAMES).to.include.members(['baseline', 'training', 'training-synthseg']);
    const heldOut = CENTRE_PROFILE_NAMES.filter((name) => loadCentreProfile(name).heldOut);
    expect(heldOut.length).to.be.at.least(2);
    for (const name of CENTRE_PROFILE_NAMES) {
      const profile = loadCentreProfile(name);
      expect(profile.name).to.equal(name);
      expect(profile.description.length).to.be.greaterThan(40);
      // Randomised unless baseline; intensities beyond the realistic range only for training.
      expect(profile.randomisation === null, name).to.equal(name === 'baseline');
      if (profile.heldOut) expect(profile.randomisation?.intensity, name).to.equal(null);
    }
    expect(loadCentreProfile('training-synthseg').randomisation?.intensity).to.not.equal(null);
    expect(loadCentreProfile('training').heldOut).to.equal(false);
  });

  it('an unknown name fails with the known names listed', () => {
    expect(() => loadCentreProfile('centre-x')).to.throw(/unknown centre profile "centre-x"; known profiles: .*baseline.*training/);
    expect(() => generateStudy({ seed: 1, columns: 32, slices: 8, profile: 'centre-x' })).to.throw(/known profiles/);
  });

  it('one seed under two profiles (two different studies) shares no UID; the baseline keeps its own', () => {
    const uids = (study: SyntheticStudy): string[] => [study.studyInstanceUID, ...study.files.flatMap((file) => [file.seriesInstanceUID, file.sopInstanceUID])];
    const baseline = generateStudy({ seed: 21, columns: 32, slices: 8, extras: 'none' });
    const training = generateStudy({ seed: 21, columns: 48, slices: 24, extras: 'none', profile: 'training' });
    const heldOut = generateStudy({ seed: 21, columns: 48, slices: 24, extras: 'none', profile: 'heldout-384' });
    const seen = new Set(uids(baseline));
    for (const uid of [...uids(training), ...uids(heldOut)]) expect(seen.has(uid), uid).to.equal(false);
    expect(new Set(uids(training)).has(heldOut.studyInstanceUID)).to.equal(false);
    expect(generateStudy({ seed: 21, columns: 48, slices: 24, extras: 'none', profile: 'training' }).studyInstanceUID, 'still deterministic').to.equal(training.studyInstanceUID);
  });

  it('rejects a profile with a reversed range, an unknown field or an interval longer than the slice', () => {
    /** The parts of a profile the cases below change, typed loosely enough to break them. */
    interface Editable {
      heldOut: boolean;
      randomisation: { contrast: { strength: number[] }; acquisition: Record<string, unknown> & { reconstructions: Array<{ intervalMm: number }> }; intensity: unknown };
    }
    const valid = JSON.parse(JSON.stringify(loadCentreProfile('training'))) as Editable;
    const broken = (change: (copy: Editable) => void): unknown => {
      const copy = JSON.parse(JSON.stringify(valid)) as Editable;
      change(copy);
      return copy;
    };
    expect(() => parseCentreProfile(valid, 'copy')).to.not.throw();
    expect(() => parseCentreProfile(broken((c) => (c.randomisation.contrast.strength = [1.2, 0.8])), 'copy')).to.throw(/contrast.strength.*low <= high/);
    expect(() => parseCentreProfile(broken((c) => (c.randomisation.acquisition.gantryTilt = 10)), 'copy')).to.throw(/acquisition/);
    expect(() => parseCentreProfile(broken((c) => (c.randomisation.acquisition.reconstructions[0].intervalMm = 9)), 'copy')).to.throw(/intervalMm/);
    expect(() => parseCentreProfile(broken((c) => ((c.heldOut = true), (c.randomisation.intensity = { tissueHuSd: 1, noiseSdHu: [1, 2], blurFwhmMm: [0, 1], biasFieldHu: 1 }))), 'copy')).to.throw(/training profiles only/);
  });

  it('held-out profiles are refused for training, by name and by a dataset build', async () => {
    for (const name of CENTRE_PROFILE_NAMES) {
      const heldOut = loadCentreProfile(name).heldOut;
      expect(isHeldOutProfile(name)).to.equal(heldOut);
      if (heldOut) expect(() => checkTrainingProfile(name)).to.throw(/held out for evaluation/);
      else expect(checkTrainingProfile(name).name).to.equal(name);
    }
    expect(isHeldOutProfile('no-such-profile')).to.equal(true);
    const out = mkdtempSync(path.join(os.tmpdir(), 'tsr-profile-refused-'));
    try {
      let error: Error | undefined;
      await buildDataset({ source: { kind: 'synthetic-seeds', from: 1, to: 2, columns: 32, slices: 8, profile: 'heldout-384' }, outDir: out, progress: false }).catch((err: Error) => (error = err));
      expect(error?.name).to.equal('CentreProfileError');
      expect(error?.message).to.match(/heldout-384.*held out/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('a folder study whose ground truth names a held-out profile is skipped (held-out-profile); a training profile study is built', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-profile-folder-'));
    try {
      const heldOut = generateStudy({ seed: 12, columns: 48, slices: 24, extras: 'none', profile: 'heldout-thin-lowdose' });
      const training = generateStudy({ seed: 13, columns: 48, slices: 24, extras: 'none', profile: 'training' });
      writeStudyToFolder(heldOut, path.join(dir, 'studies', 'a'));
      writeStudyToFolder(training, path.join(dir, 'studies', 'b'));
      const result = await buildDataset({ source: { kind: 'folder', dir: path.join(dir, 'studies'), useGroundTruth: true }, outDir: path.join(dir, 'out'), progress: false, workers: 1 });
      expect((result.manifest.skipped ?? []).map((skip) => [skip.id, skip.code])).to.deep.equal([[heldOut.studyInstanceUID, 'held-out-profile']]);
      expect(result.manifest.items.map((item) => item.id)).to.deep.equal([training.studyInstanceUID]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the baseline profile, named or not, makes the same bytes; a randomised profile makes others', () => {
    const options = { seed: 77, columns: 40, slices: 10, extras: 'all' as const };
    const plain = digest(generateStudy(options));
    expect(digest(generateStudy({ ...options, profile: 'baseline' }))).to.equal(plain);
    expect(digest(generateStudy({ ...options, profile: loadCentreProfile('baseline') }))).to.equal(plain);
    const randomised = generateStudy({ ...options, profile: 'training' });
    expect(digest(randomised)).to.not.equal(plain);
    expect(generateStudy(options).groundTruth.profile).to.equal(undefined);
    expect(randomised.groundTruth.profile).to.equal('training');
  });

  it('every profile draws slices the node accepts (no thicker than its limit, at least its minimum count)', () => {
    const limits = defaultSelectionRules().limits;
    for (const name of CENTRE_PROFILE_NAMES) {
      const ranges = loadCentreProfile(name).randomisation;
      if (!ranges) continue;
      for (const recon of ranges.acquisition.reconstructions) {
        expect(recon.thicknessMm, name).to.be.at.most(limits.maxSliceThicknessMm);
        expect(Math.round(recon.coverageMm[0] / recon.intervalMm), name).to.be.at.least(limits.minSlices);
      }
    }
  });
});
