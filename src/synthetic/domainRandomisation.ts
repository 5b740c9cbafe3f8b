/**
 * The domain randomisation of a randomised centre profile: every value a study draws from the
 * profile's ranges, each group from its own seeded stream (`profile/<name>/population`,
 * `.../acquisition`, `.../contrast`, `.../tumour`, `.../misregistration`, `.../intensity`), so
 * that the baseline profile's streams and bytes never change, one group's draws do not shift
 * another's, and two profiles' studies of one seed are drawn independently (they share only the
 * tumour biology of the seed). What depends on the patient (the field of view, the
 * noise) is derived from these draws in profileGeometry.ts.
 */
import type { Vec3 } from '../study/geometry';
import type { PancreasRegion } from './anatomyTypes';
import type { CentreProfile, ProfileRandomisation } from './profiles';
import { SeededRandom } from './random';
import type { ContrastDraw, IntensityDraw, KernelSharpness, PopulationDraw, TumourShapeKind } from './randomisationTruth';
import type { ContrastPhase, Tissue } from './tissues';

/** The thin phase series' reconstruction chosen from the profile. */
export interface ReconstructionChoice {
  thicknessMm: number;
  intervalMm: number;
  coverageMm: number;
}

/** Acquisition draws before the patient is known (see profileGeometry.ts for what follows from them). */
export interface AcquisitionChoice {
  matrix: number;
  /** Air (mm) the radiographer leaves beside the body in the field of view. */
  fieldOfViewMarginMm: number;
  /** The scanned range's centre moved from the middle of the pancreas (mm), and the table position. */
  zCentreJitterMm: number;
  tablePositionMm: Vec3;
  pixelSpacingRangeMm: [number, number];
  reconstruction: ReconstructionChoice;
  kvp: number;
  doseFactor: number;
  kernel: string;
  kernelSharpness: KernelSharpness;
  /** The profile's noise range at 120 kV, 1.25 mm, dose 1, standard kernel (thinnest to widest patient). */
  noiseRangeHu: [number, number];
  /** Patient-to-patient spread of the noise, a factor around 1. */
  noiseJitter: number;
  timingTagsPresent: boolean;
  seriesNaming: 'random' | 'english' | 'blank';
}

/** The tumour's draws; the anatomy places it and the biology decides which diameter applies. */
export interface TumourChoice {
  region: PancreasRegion;
  shape: TumourShapeKind;
  /** Greatest diameter for a conspicuous tumour, and for one faint in the pancreatic phase. */
  diameterMm: number;
  faintDiameterMm: number;
  marginWidthMm: number;
  /** Whether each secondary sign appears when the tumour's place allows it. */
  upstreamDuctDilation: boolean;
  parenchymalAtrophy: boolean;
  bileDuctDilation: boolean;
  /** Radius (mm) of the main duct and of the common bile duct when dilated. */
  dilatedDuctRadiusMm: number;
  dilatedBileDuctRadiusMm: number;
}

export interface DomainDraws {
  profile: CentreProfile;
  population: PopulationDraw;
  acquisition: AcquisitionChoice;
  contrast: Omit<ContrastDraw, 'enhancementScale'>;
  tumour: TumourChoice;
  /** Organ displacement per phase (mm); the arterial-venous difference is at most the profile's maximum. */
  breathing: Record<ContrastPhase, Vec3>;
  intensity: IntensityDraw | null;
}

const REGIONS: readonly PancreasRegion[] = ['uncinate process', 'head', 'neck', 'body', 'tail'];
const SHAPES: readonly TumourShapeKind[] = ['round', 'lobulated', 'infiltrative'];

const uniformIn = (rng: SeededRandom, [low, high]: readonly [number, number]): number => rng.uniform(low, high);

function pickWeighted<T>(rng: SeededRandom, choices: ReadonlyArray<{ value: T; weight: number }>): T {
  return choices[rng.weightedIndex(choices.map((choice) => choice.weight))].value;
}

/** A normal offset per axis, kept within 2.5 SD. */
function offset(rng: SeededRandom, sdMm: number): Vec3 {
  const one = (): number => Math.max(-2.5 * sdMm, Math.min(2.5 * sdMm, rng.gaussian(0, sdMm)));
  return [one(), one(), one()];
}

function drawPopulation(rng: SeededRandom, ranges: ProfileRandomisation['population']): PopulationDraw {
  const shift = ranges.organShiftSdMm;
  return {
    bodyHalfWidthMm: uniformIn(rng, ranges.bodyHalfWidthMm),
    bodyDepthRatio: uniformIn(rng, ranges.bodyDepthRatio),
    subcutaneousFatScale: uniformIn(rng, ranges.subcutaneousFatScale),
    organScale: { liver: uniformIn(rng, ranges.organScale.liver), spleen: uniformIn(rng, ranges.organScale.spleen), kidneys: uniformIn(rng, ranges.organScale.kidneys) },
    organShiftMm: { liver: offset(rng, shift), spleen: offset(rng, shift), kidneys: offset(rng, shift), stomach: offset(rng, shift) },
    stomachFilling: uniformIn(rng, ranges.stomachFilling),
    bowelLoops: rng.int(ranges.bowelLoops[0], ranges.bowelLoops[1]),
    bowelCalibreScale: uniformIn(rng, ranges.bowelCalibreScale),
    pancreas: {
      thicknessScale: uniformIn(rng, ranges.pancreas.thicknessScale),
      tailHeightMm: uniformIn(rng, ranges.pancreas.tailHeightMm),
      courseOffsetsMm: Array.from({ length: 7 }, () => offset(rng, ranges.pancreas.courseJitterMm)),
    },
    fieldOfViewOffsetMm: [uniformIn(rng, ranges.fieldOfViewOffsetMm.x), uniformIn(rng, ranges.fieldOfViewOffsetMm.y)],
  };
}

function drawAcquisitionChoice(rng: SeededRandom, ranges: ProfileRandomisation['acquisition']): AcquisitionChoice {
  const matrix = pickWeighted(rng, ranges.matrix);
  const fieldOfViewMarginMm = rng.uniform(25, 80);
  const zCentreJitterMm = rng.uniform(-8, 8);
  const tablePositionMm: Vec3 = [rng.uniform(-8, 8), rng.uniform(-40, 10), -rng.uniform(120, 700)];
  const recon = ranges.reconstructions[rng.weightedIndex(ranges.reconstructions.map((choice) => choice.weight))];
  const kernel = ranges.kernels[rng.weightedIndex(ranges.kernels.map((choice) => choice.weight))];
  return {
    matrix,
    fieldOfViewMarginMm,
    zCentreJitterMm,
    tablePositionMm,
    pixelSpacingRangeMm: [...ranges.pixelSpacingMm],
    reconstruction: { thicknessMm: recon.thicknessMm, intervalMm: recon.intervalMm, coverageMm: uniformIn(rng, recon.coverageMm) },
    kvp: pickWeighted(rng, ranges.kvp),
    doseFactor: uniformIn(rng, ranges.doseFactor),
    kernel: kernel.name,
    kernelSharpness: kernel.sharpness,
    noiseRangeHu: [...ranges.noiseSdHu],
    noiseJitter: Math.max(0.8, Math.min(1.2, rng.gaussian(1, 0.08))),
    timingTagsPresent: !rng.bool(ranges.timingTagsAbsent),
    seriesNaming: ranges.seriesNaming,
  };
}

/** Delays after injection; the portal-venous phase at least 20 s after the pancreatic one, as protocols space them. */
function drawContrast(rng: SeededRandom, ranges: ProfileRandomisation['contrast']): DomainDraws['contrast'] {
  const arterialDelaySeconds = Math.round(uniformIn(rng, ranges.arterialDelaySeconds));
  const [venousLow, venousHigh] = ranges.venousDelaySeconds;
  const venousDelaySeconds = Math.round(rng.uniform(Math.min(venousHigh, Math.max(venousLow, arterialDelaySeconds + 20)), venousHigh));
  return { arterialDelaySeconds, venousDelaySeconds, strength: uniformIn(rng, ranges.strength) };
}

function drawTumourChoice(rng: SeededRandom, ranges: ProfileRandomisation['tumour']): TumourChoice {
  const regionWeights = REGIONS.map((region) => ranges.regionWeights[region]);
  const region = REGIONS[rng.weightedIndex(regionWeights)];
  const shape = SHAPES[rng.weightedIndex(SHAPES.map((kind) => ranges.shapeWeights[kind]))];
  const size = ranges.diameterMm;
  const faint = ranges.faintDiameterMm;
  const diameterMm = rng.truncatedGaussian(size.mean, size.sd, size.range[0], size.range[1]);
  const faintDiameterMm = rng.truncatedGaussian(faint.mean, faint.sd, faint.range[0], faint.range[1]);
  // Ill-defined margins for infiltrative tumours; a sharp edge (one pixel) otherwise.
  const marginWidthMm = shape === 'infiltrative' ? rng.uniform(2, 5) : 0;
  const signs = ranges.secondarySigns;
  return {
    region,
    shape,
    diameterMm,
    faintDiameterMm,
    marginWidthMm,
    upstreamDuctDilation: rng.bool(signs.upstreamDuctDilation),
    parenchymalAtrophy: rng.bool(signs.parenchymalAtrophy),
    bileDuctDilation: rng.bool(signs.bileDuctDilation),
    dilatedDuctRadiusMm: rng.uniform(2.5, 4),
    dilatedBileDuctRadiusMm: rng.uniform(5, 7.5),
  };
}

/** Arterial and venous organ displacement; their difference (the misregistration) is scaled down to the maximum when longer. */
function drawBreathing(rng: SeededRandom, ranges: ProfileRandomisation['misregistration']): DomainDraws['breathing'] {
  const half = ranges.sdMm.map((sd) => sd / Math.SQRT2);
  const arterial: Vec3 = [rng.gaussian(0, half[0]), rng.gaussian(0, half[1]), rng.gaussian(0, half[2])];
  const venous: Vec3 = [rng.gaussian(0, half[0]), rng.gaussian(0, half[1]), rng.gaussian(0, half[2])];
  const length = Math.hypot(venous[0] - arterial[0], venous[1] - arterial[1], venous[2] - arterial[2]);
  if (length > ranges.maxMm) {
    const factor = ranges.maxMm / length;
    for (let axis = 0; axis < 3; axis++) {
      arterial[axis] *= factor;
      venous[axis] *= factor;
    }
  }
  // The non-contrast and delayed scans (extras) breathe as the baseline's do.
  const usual = (): Vec3 => [rng.gaussian(0, 0.8), rng.gaussian(0, 1.5), Math.max(-9, Math.min(9, rng.gaussian(0, 3.5)))];
  return { arterial, venous, 'non-contrast': usual(), delayed: usual() };
}

/** Tissues whose HU the intensity randomisation moves; the tumour shares the pancreas's offset. */
const RANDOMISED_TISSUES: readonly Tissue[] = [
  'lung', 'fat', 'skin', 'muscle', 'corticalBone', 'posteriorElements', 'cancellousBone', 'disc', 'csf', 'artery', 'aorta', 'ivc', 'portalVein',
  'hepaticVein', 'renalVein', 'liver', 'spleen', 'kidneyCortex', 'kidneyMedulla', 'pancreas', 'bile', 'water', 'bowelWall', 'stool',
];

function drawIntensity(rng: SeededRandom, ranges: NonNullable<ProfileRandomisation['intensity']>): IntensityDraw {
  const offsets = (): Partial<Record<Tissue, number>> => {
    const byTissue: Partial<Record<Tissue, number>> = {};
    for (const tissue of RANDOMISED_TISSUES) byTissue[tissue] = rng.gaussian(0, ranges.tissueHuSd);
    byTissue.tumour = byTissue.pancreas;
    return byTissue;
  };
  return {
    tissueHuOffsets: { arterial: offsets(), venous: offsets() },
    noiseSdHu: uniformIn(rng, ranges.noiseSdHu),
    blurFwhmMm: uniformIn(rng, ranges.blurFwhmMm),
    biasField: { amplitudeHu: rng.uniform(0, ranges.biasFieldHu), angle: rng.uniform(0, 2 * Math.PI) },
  };
}

/** Every draw of a randomised profile for the study of `seed`. */
export function drawDomainRandomisation(seed: number, profile: CentreProfile): DomainDraws {
  const ranges = profile.randomisation;
  if (!ranges) throw new Error(`centre profile ${profile.name} is not randomised`);
  const stream = (name: string): SeededRandom => new SeededRandom(seed, `profile/${profile.name}/${name}`);
  return {
    profile,
    population: drawPopulation(stream('population'), ranges.population),
    acquisition: drawAcquisitionChoice(stream('acquisition'), ranges.acquisition),
    contrast: drawContrast(stream('contrast'), ranges.contrast),
    tumour: drawTumourChoice(stream('tumour'), ranges.tumour),
    breathing: drawBreathing(stream('misregistration'), ranges.misregistration),
    intensity: ranges.intensity ? drawIntensity(stream('intensity'), ranges.intensity) : null,
  };
}
