/**
 * The node's own phase selection (discovery, metadata, image evidence) and volume assembly on
 * studies of every randomised centre profile, through an in-memory DICOMweb client: the chosen
 * series are the right phases, and the assembled volumes have the drawn matrix, spacing and
 * slice interval. Images are made small (128 columns); slices keep the drawn thickness and
 * interval.
 */
import { expect } from 'chai';
import { assembleVolumeFromFiles } from '../../../src/study/volumeAssembly';
import { defaultSelectionRules } from '../../../src/study/selectionRules';
import { selectStudyPhases } from '../../../src/study/studySelection';
import { CENTRE_PROFILE_NAMES, generateStudy, loadCentreProfile, type SyntheticStudy } from '../../../src/synthetic';
import { memoryStudyClient } from './memoryStudyClient';

const RANDOMISED = CENTRE_PROFILE_NAMES.filter((name) => loadCentreProfile(name).randomisation !== null);
const SEEDS = [7000, 7001, 7002];

interface Outcome {
  profile: string;
  seed: number;
  analyzable: boolean;
  reason?: string;
  /** Roles of the chosen arterial and venous series. */
  roles: string;
}

async function select(profile: string, study: SyntheticStudy, seed: number): Promise<Outcome> {
  const { selection } = await selectStudyPhases(memoryStudyClient(study), study.studyInstanceUID, defaultSelectionRules());
  const roleOf = (uid: string | undefined): string => study.groundTruth.series.find((series) => series.seriesInstanceUID === uid)?.role ?? 'none';
  return {
    profile,
    seed,
    analyzable: selection.analyzable,
    ...(selection.reasonCode ? { reason: selection.reasonCode } : {}),
    roles: `${roleOf(selection.arterial?.seriesInstanceUID)}/${roleOf(selection.venous?.seriesInstanceUID)}`,
  };
}

/** Analyzable means the arterial and venous phases (thin, or their 5 mm reconstruction). */
function rightPhases(outcome: Outcome): boolean {
  return /^arterial(-thick)?\/venous(-thick)?$/.test(outcome.roles);
}

describe('synthetic: phase selection and assembly of every randomised profile', function () {
  this.timeout(600_000);

  it('selects the right phases with the metadata each profile draws, and assembles the drawn grid', async () => {
    const outcomes: Outcome[] = [];
    for (const profile of RANDOMISED) {
      for (const seed of SEEDS) {
        const study = generateStudy({ seed, profile, columns: 128, extras: 'random' });
        const outcome = await select(profile, study, seed);
        outcomes.push(outcome);
        const truth = study.groundTruth;
        const drawn = truth.randomisation!.acquisition;
        const bytes = study.files.filter((file) => file.seriesInstanceUID === truth.phases.venous.seriesInstanceUID).map((file) => Buffer.from(file.bytes));
        const volume = await assembleVolumeFromFiles(bytes);
        expect(volume.geometry.dims).to.deep.equal([128, 128, drawn.slices]);
        expect(volume.geometry.spacing[0]).to.be.closeTo(drawn.pixelSpacingMm, 1e-4);
        expect(volume.geometry.spacing[2]).to.be.closeTo(drawn.sliceIntervalMm, 1e-3);
      }
    }
    const report = JSON.stringify(outcomes);
    for (const outcome of outcomes) if (outcome.analyzable) expect(rightPhases(outcome), report).to.equal(true);
    expect(outcomes.filter((outcome) => outcome.analyzable).length, report).to.be.at.least(outcomes.length - 2);
  });

  it('without names or timing tags (image evidence only) it never picks a wrong phase', async () => {
    const outcomes: Outcome[] = [];
    for (const profile of RANDOMISED) {
      const study = generateStudy({ seed: 7010, profile, columns: 128, extras: 'random', naming: 'blank', timingTags: 'absent' });
      outcomes.push(await select(profile, study, 7010));
    }
    const report = JSON.stringify(outcomes);
    for (const outcome of outcomes) {
      if (outcome.analyzable) expect(rightPhases(outcome), report).to.equal(true);
      else expect(['phase-undetermined', 'ambiguous-phases', 'single-phase'], report).to.include(outcome.reason);
    }
  });
});
