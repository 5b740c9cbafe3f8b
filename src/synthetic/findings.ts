/**
 * A radiology-style findings paragraph for the tumour: the text side of CLIP training. It states
 * location, size, attenuation relative to the parenchyma in each phase with approximate ROI values
 * (rounded to 5 HU, as radiologists report them), the enhancement pattern, vessel contact and the
 * duct. It never states the tumour-stroma ratio or anything about stroma: only what a radiologist
 * sees. Wording varies (several phrasings per sentence) so a text encoder cannot key on a template.
 */
import type { EnhancementParameters } from './biology';
import type { PancreasRegion } from './anatomyTypes';
import type { SeededRandom } from './random';
import type { VesselContact } from './vesselContact';

export interface FindingsInput {
  region: PancreasRegion;
  diameterMm: number;
  enhancement: EnhancementParameters;
  vesselContact: VesselContact[];
  ductDilated: boolean;
  ductDiameterMm?: number;
  /** Randomised profiles: whether the gland upstream is atrophic, and the common bile duct (diameter when dilated). */
  secondarySigns?: { parenchymalAtrophy: boolean; bileDuctDilated: boolean; bileDuctDiameterMm: number };
}

/** ROI-style value: the true mean plus a small reading error, rounded to 5 HU. */
function roi(rng: SeededRandom, hu: number): number {
  return Math.round((hu + rng.gaussian(0, 2)) / 5) * 5;
}

export function attenuationWord(tpcHu: number): string {
  if (tpcHu >= 35) return 'markedly hypoattenuating';
  if (tpcHu >= 15) return 'hypoattenuating';
  if (tpcHu >= 6) return 'mildly hypoattenuating';
  if (tpcHu > -6) return 'isoattenuating';
  return 'hyperattenuating';
}

export function enhancementPattern(tumourArterialHu: number, tumourVenousHu: number): string {
  const d = tumourVenousHu - tumourArterialHu;
  if (d >= 10) return 'progressive enhancement';
  if (d >= 4) return 'mildly progressive enhancement';
  if (d > -4) return 'plateau enhancement';
  return 'slight washout';
}

const VESSEL_SHORT: Record<string, string> = {
  'superior mesenteric vein': 'SMV',
  'portal vein': 'portal vein',
  'splenic vein': 'splenic vein',
  'superior mesenteric artery': 'SMA',
  'coeliac trunk': 'coeliac trunk',
  'common hepatic artery': 'common hepatic artery',
  'splenic artery': 'splenic artery',
  aorta: 'aorta',
  'inferior vena cava': 'IVC',
};

export function findingsText(rng: SeededRandom, f: FindingsInput): string {
  const e = f.enhancement;
  const size = Math.round(f.diameterMm);
  const ta = roi(rng, e.tumourHu.arterial);
  const pa = roi(rng, e.parenchymaHu.arterial);
  const tv = roi(rng, e.tumourHu.venous);
  const pv = roi(rng, e.parenchymaHu.venous);
  const wordA = attenuationWord(e.tpcHu.arterial);
  const wordV = attenuationWord(e.tpcHu.venous);
  const margin = rng.pick(['ill-defined', 'poorly marginated', 'infiltrative', 'irregular']);
  const where = f.region === 'uncinate process' ? 'uncinate process' : `pancreatic ${f.region}`;
  const sentences: string[] = [];
  sentences.push(
    rng.pick([
      `There is a ${margin} ${wordA} mass in the ${where}, measuring approximately ${size} mm.`,
      `A ${size} mm ${margin} mass is seen in the ${where}.`,
      `${capitalise(where)}: ${margin} solid mass, about ${size} mm in greatest axial dimension.`,
      `Solid ${margin} lesion of the ${where} measuring ${size} mm.`,
    ]),
  );
  sentences.push(
    rng.pick([
      `In the pancreatic phase it is ${wordA} relative to the enhancing parenchyma (about ${ta} HU versus ${pa} HU).`,
      `Pancreatic phase: ${wordA} to the background pancreas, ROI approximately ${ta} HU (parenchyma ${pa} HU).`,
      `On the late arterial images the lesion measures about ${ta} HU against ${pa} HU in the adjacent pancreas, ${wordA}.`,
    ]),
  );
  const conspicuity = e.tpcHu.venous < e.tpcHu.arterial - 8 ? rng.pick(['becoming less conspicuous', 'with reduced conspicuity']) : rng.pick(['with similar conspicuity', 'remaining clearly visible']);
  sentences.push(
    rng.pick([
      `In the portal venous phase it is ${wordV} (about ${tv} HU versus ${pv} HU), ${conspicuity}.`,
      `Portal venous phase: ${wordV}, approximately ${tv} HU (parenchyma ${pv} HU).`,
      `On portal venous images the mass measures about ${tv} HU against ${pv} HU, ${wordV}.`,
    ]),
  );
  const pattern = enhancementPattern(e.tumourHu.arterial, e.tumourHu.venous);
  sentences.push(rng.pick([`The lesion shows ${pattern} between the phases.`, `Enhancement pattern: ${pattern}.`, `Between phases there is ${pattern} of the mass.`]));
  sentences.push(vesselSentence(rng, f.vesselContact));
  if (f.secondarySigns) {
    sentences.push(...secondarySignSentences(rng, f.ductDilated, Math.round(f.ductDiameterMm ?? 6), f.secondarySigns));
    return sentences.join(' ');
  }
  if (f.ductDilated) {
    const mm = Math.round(f.ductDiameterMm ?? 6);
    sentences.push(
      rng.pick([
        `Upstream dilatation of the main pancreatic duct to ${mm} mm with atrophy of the body and tail.`,
        `The main pancreatic duct is dilated upstream (${mm} mm) and the distal parenchyma is atrophic.`,
      ]),
    );
  } else {
    sentences.push(rng.pick(['The main pancreatic duct is not dilated.', 'No upstream ductal dilatation.', 'Main pancreatic duct of normal calibre.']));
  }
  return sentences.join(' ');
}

/** The duct, the parenchyma upstream and the common bile duct, for the randomised profiles' tumours. */
function secondarySignSentences(rng: SeededRandom, ductDilated: boolean, ductMm: number, signs: NonNullable<FindingsInput['secondarySigns']>): string[] {
  const sentences: string[] = [];
  if (ductDilated) {
    const atrophy = signs.parenchymalAtrophy ? rng.pick([' with atrophy of the parenchyma upstream', '; the upstream parenchyma is atrophic']) : '';
    sentences.push(`${rng.pick([`Upstream dilatation of the main pancreatic duct to ${ductMm} mm`, `The main pancreatic duct is dilated upstream (${ductMm} mm)`])}${atrophy}.`);
  } else {
    sentences.push(rng.pick(['The main pancreatic duct is not dilated.', 'No upstream ductal dilatation.', 'Main pancreatic duct of normal calibre.']));
  }
  if (signs.bileDuctDilated) {
    const mm = Math.round(signs.bileDuctDiameterMm);
    sentences.push(rng.pick([`The common bile duct is dilated to ${mm} mm down to the mass.`, `Biliary obstruction: common bile duct ${mm} mm.`]));
  }
  return sentences;
}

function vesselSentence(rng: SeededRandom, contacts: VesselContact[]): string {
  const relevant = contacts.filter((c) => c.vessel !== 'aorta' && c.vessel !== 'inferior vena cava');
  if (relevant.length === 0) {
    return rng.pick([
      'No contact with the SMA, SMV, portal vein or coeliac trunk; fat planes are preserved.',
      'The peripancreatic vessels are free of tumour contact.',
      'No vascular contact is seen.',
    ]);
  }
  const parts = relevant
    .sort((a, b) => b.degrees - a.degrees)
    .map((c) => {
      const name = VESSEL_SHORT[c.vessel] ?? c.vessel;
      return c.kind === 'encasement' ? `encases the ${name} (about ${c.degrees} degrees)` : `abuts the ${name} over about ${c.degrees} degrees`;
    });
  const joined = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  return rng.pick([`The mass ${joined}.`, `Vascular contact: the tumour ${joined}.`]);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
