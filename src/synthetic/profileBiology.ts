/**
 * The tumour biology of a randomised profile's study: the baseline's biology for the seed (the
 * stroma fraction and the stroma relation, from the same streams), except that a share of
 * tumours (the profile's `isoAttenuatingRate`) is iso-attenuating whatever its stroma, drawn from
 * the `profile/<name>/biology` stream. The values are at 120 kV and usual enhancement; the acquisition
 * scales them (contrastEnhancement.ts) and the oracle divides the scale out again.
 */
import { drawTumourBiology, type TsrLabel, type TumourBiology } from './biology';
import { ISO_ATTENUATING_TPC, oracleFromTpcMixture, type OracleScores } from './oracle';
import type { CentreProfile } from './profiles';
import { SeededRandom } from './random';

export interface ProfileBiology {
  biology: TumourBiology;
  isoAttenuating: boolean;
}

export function drawProfileBiology(seed: number, profile: CentreProfile, label?: TsrLabel): ProfileBiology {
  const biology = drawTumourBiology(new SeededRandom(seed, 'stroma'), new SeededRandom(seed, 'biology'), label);
  const rng = new SeededRandom(seed, `profile/${profile.name}/biology`);
  const isoAttenuating = rng.bool(profile.randomisation?.tumour.isoAttenuatingRate ?? 0);
  const iso = ISO_ATTENUATING_TPC;
  const isoArterial = rng.gaussian(iso.arterial.mean, iso.arterial.sd);
  const isoVenous = rng.gaussian(iso.venous.mean, iso.venous.sd);
  if (!isoAttenuating) return { biology, isoAttenuating };
  const { parenchymaHu } = biology.enhancement;
  return {
    isoAttenuating,
    biology: {
      ...biology,
      enhancement: {
        parenchymaHu,
        tumourHu: { arterial: parenchymaHu.arterial - isoArterial, venous: parenchymaHu.venous - isoVenous },
        tpcHu: { arterial: isoArterial, venous: isoVenous },
      },
    },
  };
}

/**
 * P(high TSR | the noise-free parameters) of a profile's study: the TPCs in the pixels divided by
 * the pancreas's enhancement scale of each phase (back to 120 kV and usual enhancement), with the
 * profile's iso-attenuating share in the likelihood.
 */
export function profileOracle(tpcHu: { arterial: number; venous: number }, scale: { arterial: number; venous: number }, profile: CentreProfile): OracleScores {
  const rate = profile.randomisation?.tumour.isoAttenuatingRate ?? 0;
  return oracleFromTpcMixture(tpcHu.arterial / scale.arterial, tpcHu.venous / scale.venous, rate);
}
