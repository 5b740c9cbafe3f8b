/**
 * The plan of a randomised profile's study: the baseline's steps (biology, tissues, anatomy,
 * geometry, series, names, patient, protocol) with the profile's draws put in, and the record of
 * every drawn value for the ground truth. The baseline profile never comes here (study.ts).
 */
import type { Vec3 } from '../study/geometry';
import { drawAcquisitionProtocol, type AcquisitionProtocol, type TimingTagsOption } from './acquisitionProtocol';
import { drawAnatomy } from './anatomy';
import type { Anatomy } from './anatomyTypes';
import { applyContrastSettings, iodineDoseFactor, iodineFactor, pancreasEnhancementScale, type ContrastSettings } from './contrastEnhancement';
import type { EnhancementParameters } from './biology';
import { drawDomainRandomisation, type DomainDraws } from './domainRandomisation';
import { PIXEL_ENCODINGS } from './encoding';
import { drawPatient, drawPixelEncoding, studyAttributes } from './patientAndStudy';
import { drawProfileBiology } from './profileBiology';
import { drawProfileScanGeometry, type ImageSize } from './profileGeometry';
import type { CentreProfile } from './profiles';
import { SeededRandom } from './random';
import type { IntensityDraw, StudyRandomisation } from './randomisationTruth';
import type { ScanGeometry } from './scanGeometry';
import { drawDescriptions, drawSeriesSelection, numberSeries } from './seriesSettings';
import type { ExtrasOption, InstanceOrderOption, SeriesSelection, StudyPlan } from './studyPlan';
import type { TsrLabel } from './biology';
import type { NamingStyle } from './naming';
import type { PixelEncodingName } from './encoding';
import { drawTissueHu, type PhaseHu, type Tissue } from './tissues';

/** The generator options a randomised study reads (SyntheticStudyOptions in study.ts). */
export interface RandomisedStudyOptions {
  seed: number;
  label?: TsrLabel;
  extras?: ExtrasOption;
  naming?: NamingStyle;
  encoding?: 'random' | PixelEncodingName;
  timingTags?: TimingTagsOption;
  instanceOrder?: InstanceOrderOption;
}

/** Thin slices at least this far apart get no separate 5 mm reconstruction. */
const NO_THICK_RECON_FROM_MM = 2.5;

/** The SynthSeg-style offsets added to every tissue's HU in the arterial and venous phases. */
function applyIntensityOffsets(phases: PhaseHu, intensity: IntensityDraw): PhaseHu {
  const shifted = { ...phases };
  for (const phase of ['arterial', 'venous'] as const) {
    const table = { ...phases[phase] };
    for (const [tissue, offset] of Object.entries(intensity.tissueHuOffsets[phase]) as Array<[Tissue, number]>) table[tissue] += offset;
    shifted[phase] = table;
  }
  return shifted;
}

/** The noise-free enhancement parameters as the pixels show them. */
function enhancementOf(tissueHu: PhaseHu): EnhancementParameters {
  const { arterial, venous } = tissueHu;
  return {
    parenchymaHu: { arterial: arterial.pancreas, venous: venous.pancreas },
    tumourHu: { arterial: arterial.tumour, venous: venous.tumour },
    tpcHu: { arterial: arterial.pancreas - arterial.tumour, venous: venous.pancreas - venous.tumour },
  };
}

function withoutThickRecons(series: SeriesSelection): SeriesSelection {
  return { ...series, thick: false, roles: series.roles.filter((role) => role !== 'arterial-thick' && role !== 'venous-thick') };
}

/** The protocol drawn as the baseline draws it, with the profile's delays, kV, kernel, dose and kV-adapted contrast volume. */
function profileProtocol(drawn: AcquisitionProtocol, draws: DomainDraws): AcquisitionProtocol {
  const { acquisition, contrast } = draws;
  return {
    ...drawn,
    delaySeconds: { ...drawn.delaySeconds, arterial: contrast.arterialDelaySeconds, venous: contrast.venousDelaySeconds },
    kvp: acquisition.kvp,
    convolutionKernel: acquisition.kernel,
    doseFactor: acquisition.doseFactor,
    contrast: { ...drawn.contrast, volumeMl: Math.round(drawn.contrast.volumeMl * iodineDoseFactor(acquisition.kvp)) },
  };
}

const round = (value: number, decimals = 3): number => Math.round(value * 10 ** decimals) / 10 ** decimals;
const roundVector = (vector: Vec3): Vec3 => [round(vector[0]), round(vector[1]), round(vector[2])];

/** Every drawn value of the study, for ground-truth.json. */
function randomisationRecord(draws: DomainDraws, anatomy: Anatomy, geometry: ScanGeometry, protocol: AcquisitionProtocol, settings: ContrastSettings, isoAttenuating: boolean): StudyRandomisation {
  const { acquisition, tumour } = draws;
  const breathing = draws.breathing;
  const scale = pancreasEnhancementScale(settings);
  return {
    population: draws.population,
    acquisition: {
      matrix: geometry.grid.columns,
      pixelSpacingMm: geometry.grid.spacing,
      fieldOfViewMm: geometry.fieldOfViewMm,
      sliceThicknessMm: geometry.thinSliceMm,
      sliceIntervalMm: geometry.thinIntervalMm,
      slices: geometry.thinZ.length,
      coverageMm: geometry.coverageMm,
      kvp: acquisition.kvp,
      iodineFactor: iodineFactor(acquisition.kvp),
      iodineDoseFactor: iodineDoseFactor(acquisition.kvp),
      doseFactor: acquisition.doseFactor,
      kernel: acquisition.kernel,
      kernelSharpness: acquisition.kernelSharpness,
      noiseSdHu: geometry.noiseSdHu,
      timingTagsPresent: protocol.timingTagsPresent,
      seriesNaming: acquisition.seriesNaming,
    },
    contrast: { ...draws.contrast, enhancementScale: scale },
    tumour: {
      region: anatomy.tumour.region,
      shape: tumour.shape,
      diameterMm: anatomy.tumour.diameterMm,
      isoAttenuating,
      marginWidthMm: tumour.marginWidthMm,
      upstreamDuctDilated: anatomy.ductDilated,
      parenchymalAtrophy: anatomy.secondarySigns?.parenchymalAtrophy ?? false,
      bileDuctDilated: anatomy.secondarySigns?.bileDuctDilated ?? false,
      ductDiameterMm: anatomy.ductDilated ? 2 * tumour.dilatedDuctRadiusMm : 2.4,
      bileDuctDiameterMm: anatomy.secondarySigns?.bileDuctDilated ? 2 * tumour.dilatedBileDuctRadiusMm : 6,
    },
    misregistrationMm: roundVector([breathing.venous[0] - breathing.arterial[0], breathing.venous[1] - breathing.arterial[1], breathing.venous[2] - breathing.arterial[2]]),
    intensity: draws.intensity,
  };
}

/** The timing tags as asked, else as the profile drew them. */
function timingTagsOf(options: RandomisedStudyOptions, draws: DomainDraws): TimingTagsOption {
  if (options.timingTags && options.timingTags !== 'random') return options.timingTags;
  return draws.acquisition.timingTagsPresent ? 'present' : 'absent';
}

export function planRandomisedStudy(options: RandomisedStudyOptions, profile: CentreProfile, size: ImageSize): StudyPlan {
  const seed = options.seed;
  const stream = (name: string): SeededRandom => new SeededRandom(seed, name);
  const draws = drawDomainRandomisation(seed, profile);
  // Biology at 120 kV and usual enhancement; the acquisition then scales the HU.
  const latent = drawProfileBiology(seed, profile, options.label);
  const settings: ContrastSettings = {
    kvp: draws.acquisition.kvp,
    strength: draws.contrast.strength,
    delaySeconds: { arterial: draws.contrast.arterialDelaySeconds, venous: draws.contrast.venousDelaySeconds },
  };
  const scaled = applyContrastSettings(drawTissueHu(stream('tissues'), latent.biology.enhancement).phases, settings);
  const tissueHu = draws.intensity ? applyIntensityOffsets(scaled, draws.intensity) : scaled;
  const biology = { ...latent.biology, enhancement: enhancementOf(tissueHu) };
  const anatomy = drawAnatomy(stream('anatomy'), { tpcArterialHu: latent.biology.enhancement.tpcHu.arterial }, { population: draws.population, tumour: draws.tumour });
  const acquisition = stream('acquisition');
  const geometry = drawProfileScanGeometry(anatomy, draws, size);
  const drawnSeries = drawSeriesSelection(acquisition, options.extras ?? 'random');
  const series = geometry.thinIntervalMm >= NO_THICK_RECON_FROM_MM ? withoutThickRecons(drawnSeries) : drawnSeries;
  const naming = options.naming ?? draws.acquisition.seriesNaming;
  const descriptions = drawDescriptions(stream('naming'), series.roles, naming);
  const metadata = stream('metadata');
  const encodingName = drawPixelEncoding(metadata, options.encoding);
  const patient = drawPatient(metadata, anatomy.bodyHalfWidthMm);
  const protocol = profileProtocol(drawAcquisitionProtocol(acquisition, patient.studyStartSeconds, patient.weightKg, timingTagsOf(options, draws)), draws);
  return {
    seed,
    uidSeed: `${profile.name}:${seed}`,
    columns: geometry.grid.columns,
    slices: geometry.thinZ.length,
    biology,
    tissueHu,
    anatomy,
    geometry,
    series,
    seriesNumbers: numberSeries(series.roles),
    naming,
    descriptions,
    encodingName,
    encoding: PIXEL_ENCODINGS[encodingName],
    patient,
    study: studyAttributes(seed, patient, descriptions, `${profile.name}:${seed}`),
    protocol,
    instanceOrder: options.instanceOrder ?? 'random',
    acquisition,
    imageStyle: {
      noiseSharpness: draws.acquisition.kernelSharpness,
      blurFwhmMm: draws.intensity?.blurFwhmMm ?? 0,
      biasField: draws.intensity?.biasField ?? { amplitudeHu: 0, angle: 0 },
    },
    randomisation: { profile, record: randomisationRecord(draws, anatomy, geometry, protocol, settings, latent.isoAttenuating) },
  };
}
