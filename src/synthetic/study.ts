/**
 * generateStudy: one synthetic dual-phase pancreatic CT study, in memory, with its ground truth.
 *
 * Order of work: biology (stroma fraction, label, noise-free enhancement) -> tissue HU table ->
 * anatomy -> acquisition plan (geometry, series, timing, names) -> series rendered slice by slice,
 * noise added, encoded and written as Part 10 -> ground truth (oracle, vessel contact, findings).
 * Every random draw comes from a named stream of the seed, so the same seed gives the same bytes.
 */
import type { Vec3 } from '../study/geometry';
import { PACKAGE_VERSION } from '../paths';
import { drawAnatomy, type Anatomy } from './anatomy';
import { doseReportDataset, type IrradiationEvent } from './doseReport';
import { drawTumourBiology, LABEL_DEFINITION, type TsrLabel, type TumourBiology } from './biology';
import { ctImageDataset, type ContrastAttributes, type CtSeriesAttributes, type StudyAttributes } from './ctImage';
import { addNoiseAndEncode, encodePixels, PIXEL_ENCODING_NAMES, PIXEL_ENCODINGS, type PixelEncoding, type PixelEncodingName } from './encoding';
import { findingsText } from './findings';
import { GROUND_TRUTH_SCHEMA, type LandmarkTruth, type PhaseTruth, type SeriesTruth, type SyntheticGroundTruth } from './groundTruth';
import { renderLocalizer } from './localizer';
import { isAscii, seriesDescription, type NamingStyle, type SeriesRole } from './naming';
import { FieldBank, noiseSlice, textureSlice } from './noise';
import { oracleScores } from './oracle';
import { ds, writePart10 } from './part10';
import { SeededRandom } from './random';
import { SliceRenderer, type AxialGrid } from './render';
import { drawTissueHu, type ContrastPhase, type PhaseHu } from './tissues';
import { findLandmark, LANDMARK_STRUCTURES } from './landmarks';
import { tumourBounds, tumourLevel } from './tumourShape';
import { syntheticUid } from './uid';
import { measureVesselContact } from './vesselContact';

export const GENERATOR_VERSION = `tsr-node-synthetic/1 (tsr-node ${PACKAGE_VERSION})`;

export type ExtrasOption = 'none' | 'random' | 'all';

export interface SyntheticStudyOptions {
  /** Same seed => byte-identical output. A non-negative integer below 2^53. */
  seed: number;
  /** Image width = height; default 512. Pixel spacing grows for smaller images, so the field of view stays realistic. */
  columns?: number;
  /** Thin slices per phase series; default 100. */
  slices?: number;
  /** Force the class (cohort balancing); otherwise drawn from the biology (40% low / 60% high). */
  label?: TsrLabel;
  /** Non-contrast, delayed, localizer, thick 5 mm recons, dose report (SR). Default 'random'. */
  extras?: ExtrasOption;
  /** Series descriptions; default 'random' (multilingual set, including blank). */
  naming?: NamingStyle;
  /** Pixel encoding of the whole study; default 'random'. */
  encoding?: 'random' | PixelEncodingName;
  /** ContrastBolusStartTime and AcquisitionTime: written, left out, or either (default 'random', ~30% absent). */
  timingTags?: 'random' | 'present' | 'absent';
  /** InstanceNumber order: head first, feet first, shuffled, or drawn (default 'random': 70/15/15%). */
  instanceOrder?: 'random' | 'head-first' | 'feet-first' | 'shuffled';
}

export interface SyntheticFile {
  /** Path of the Part 10 file relative to the study folder, e.g. `S003/I0001.dcm`. */
  relativePath: string;
  seriesInstanceUID: string;
  sopInstanceUID: string;
  bytes: Uint8Array;
}

export interface SyntheticStudy {
  studyInstanceUID: string;
  files: SyntheticFile[];
  groundTruth: SyntheticGroundTruth;
}

const bankCache = new Map<string, FieldBank>();

/** Noise and texture banks depend only on the image size, so a cohort builds them once. */
function bank(size: number, blur: number, kind: string): FieldBank {
  const key = `${kind}/${size}/${blur}`;
  let b = bankCache.get(key);
  if (!b) {
    b = new FieldBank(size, new SeededRandom(size * 31 + blur, `bank/${kind}`), 4, blur);
    bankCache.set(key, b);
  }
  return b;
}

function validate(o: SyntheticStudyOptions): { columns: number; slices: number } {
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${o.seed}`);
  const columns = o.columns ?? 512;
  const slices = o.slices ?? 100;
  if (!Number.isInteger(columns) || columns < 32 || columns > 1024) throw new RangeError(`columns must be an integer in 32..1024, got ${columns}`);
  if (!Number.isInteger(slices) || slices < 8 || slices > 2000) throw new RangeError(`slices must be an integer in 8..2000, got ${slices}`);
  if (o.label !== undefined && o.label !== 'low' && o.label !== 'high') throw new RangeError(`label must be 'low' or 'high', got ${String(o.label)}`);
  if (o.encoding !== undefined && o.encoding !== 'random' && !(o.encoding in PIXEL_ENCODINGS)) {
    throw new RangeError(`encoding must be 'random' or one of ${PIXEL_ENCODING_NAMES.join(', ')}, got ${o.encoding}`);
  }
  return { columns, slices };
}

const pad = (n: number, w: number): string => String(Math.floor(n)).padStart(w, '0');

function dicomDate(daysSinceEpoch: number): string {
  const d = new Date(daysSinceEpoch * 86400000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
}

function dicomTime(secondsOfDay: number): string {
  const s = Math.max(0, Math.min(86399, Math.floor(secondsOfDay)));
  return `${pad(s / 3600, 2)}${pad((s % 3600) / 60, 2)}${pad(s % 60, 2)}`;
}

interface AxialSeriesSpec {
  role: SeriesRole;
  phase: ContrastPhase;
  /** Local z of the centre of each output slice, head first. */
  zCentres: number[];
  thicknessMm: number;
  spacingMm: number;
  /** z sub-samples averaged per slice (slice-profile partial volume for thick slices). */
  subSamples: number;
  noiseSdHu: number;
  shift: Vec3;
  attributes: CtSeriesAttributes;
  order: 'head-first' | 'feet-first' | 'shuffled';
  /** Seconds of acquisition start (of day), for ContentTime. */
  startSeconds: number;
  /** Also write a 5 mm reconstruction by averaging these thin slices. */
  thick?: { attributes: CtSeriesAttributes; order: 'head-first' | 'feet-first' | 'shuffled'; perSlice: number };
}

interface Context {
  seed: number;
  anatomy: Anatomy;
  hu: PhaseHu;
  grid: AxialGrid;
  translation: Vec3;
  study: StudyAttributes;
  encoding: PixelEncoding;
  fovMask: Uint8Array;
  files: SyntheticFile[];
  textureBank: FieldBank;
  noiseBank: FieldBank;
}

function instanceNumbers(rng: SeededRandom, count: number, order: 'head-first' | 'feet-first' | 'shuffled'): number[] {
  const numbers = Array.from({ length: count }, (_, k) => k + 1);
  if (order === 'feet-first') numbers.reverse();
  if (order === 'shuffled') rng.shuffle(numbers);
  return numbers;
}

/**
 * Renders series that share their slice positions (the arterial and venous phases) in lockstep,
 * so the texture field of each position is computed once and the tissue's texture is the same in
 * both phases, as it is in a real patient.
 */
function writeAxialSeries(ctx: Context, specs: AxialSeriesSpec[]): void {
  const g = ctx.grid;
  const n = g.columns * g.rows;
  const renderer = new SliceRenderer(ctx.anatomy, ctx.hu, g);
  const hu = new Float32Array(n);
  const sub = new Float32Array(n);
  const texture = new Float32Array(n);
  const noise = new Float32Array(n);
  const zCentres = specs[0].zCentres;
  const secondsPerSlice = 0.02;
  const states = specs.map((spec) => {
    const orderRng = new SeededRandom(ctx.seed, `order/${spec.role}`);
    const thick = spec.thick;
    const thickCount = thick ? Math.floor(zCentres.length / thick.perSlice) : 0;
    return {
      spec,
      numbers: instanceNumbers(orderRng, zCentres.length, spec.order),
      thickCount,
      thickNumbers: thick ? instanceNumbers(orderRng, thickCount, thick.order) : [],
      accumulator: thick ? new Float32Array(n) : undefined,
      noiseRng: new SeededRandom(ctx.seed, `noise/${spec.role}`),
    };
  });
  const emit = (attributes: CtSeriesAttributes, k: number, instanceNumber: number, z: number, seconds: number, pixelData: Uint8Array): void => {
    const sopInstanceUID = syntheticUid(ctx.seed, 'instance', attributes.seriesInstanceUID, k);
    const position: [number, number, number] = [g.x0 + ctx.translation[0], g.y0 + ctx.translation[1], z + ctx.translation[2]];
    const dataset = ctImageDataset(ctx.study, attributes, {
      sopInstanceUID,
      instanceNumber,
      imagePosition: position,
      sliceLocation: position[2],
      contentTime: dicomTime(seconds),
      pixelData,
    });
    ctx.files.push({
      relativePath: `S${pad(attributes.seriesNumber, 3)}/I${pad(instanceNumber, 4)}.dcm`,
      seriesInstanceUID: attributes.seriesInstanceUID,
      sopInstanceUID,
      bytes: writePart10(dataset),
    });
  };
  for (let k = 0; k < zCentres.length; k++) {
    const z = zCentres[k];
    textureSlice(ctx.textureBank, ctx.seed, z, 3, texture);
    for (const st of states) {
      const spec = st.spec;
      if (spec.subSamples <= 1) {
        renderer.render(spec.phase, z, spec.shift, texture, hu);
      } else {
        // Slice profile: the mean of renders across the slice thickness (partial volume in z).
        hu.fill(0);
        for (let s = 0; s < spec.subSamples; s++) {
          const zs = z + ((s + 0.5) / spec.subSamples - 0.5) * spec.thicknessMm;
          renderer.render(spec.phase, zs, spec.shift, texture, sub);
          for (let i = 0; i < n; i++) hu[i] += sub[i];
        }
        const inv = 1 / spec.subSamples;
        for (let i = 0; i < n; i++) hu[i] *= inv;
      }
      noiseSlice(ctx.noiseBank, st.noiseRng, noise);
      const pixels = addNoiseAndEncode(hu, noise, spec.noiseSdHu, ctx.encoding, ctx.fovMask);
      emit(spec.attributes, k, st.numbers[k], z, spec.startSeconds + k * secondsPerSlice, pixels);
      const thick = spec.thick;
      const acc = st.accumulator;
      if (!thick || !acc) continue;
      const t = Math.floor(k / thick.perSlice);
      if (t >= st.thickCount) continue;
      if (k % thick.perSlice === 0) acc.set(hu);
      else for (let i = 0; i < n; i++) acc[i] += hu[i];
      if (k % thick.perSlice === thick.perSlice - 1) {
        const inv = 1 / thick.perSlice;
        for (let i = 0; i < n; i++) acc[i] *= inv;
        const zThick = (zCentres[t * thick.perSlice] + z) / 2;
        emit(thick.attributes, t, st.thickNumbers[t], zThick, spec.startSeconds + k * secondsPerSlice, encodePixels(acc, ctx.encoding, ctx.fovMask));
      }
    }
  }
}

/**
 * The tumour biology of the study `generateStudy({ seed, label })` makes, without rendering it:
 * what the oracle report of a cohort needs.
 */
export function studyBiology(seed: number, label?: TsrLabel): TumourBiology {
  return drawTumourBiology(new SeededRandom(seed, 'stroma'), new SeededRandom(seed, 'biology'), label);
}

export function generateStudy(options: SyntheticStudyOptions): SyntheticStudy {
  const { columns, slices } = validate(options);
  const seed = options.seed;
  const stream = (name: string): SeededRandom => new SeededRandom(seed, name);

  // Biology first: the label acts on the image only through `enhancement`.
  const biology = studyBiology(seed, options.label);
  const tissues = drawTissueHu(stream('tissues'), biology.enhancement);
  const anatomy = drawAnatomy(stream('anatomy'), { tpcArterialHu: biology.enhancement.tpcHu.arterial });
  const acq = stream('acquisition');
  const names = stream('naming');
  const meta = stream('metadata');

  // --- Geometry -------------------------------------------------------------------------------
  const fov = Math.min(460, Math.max(310, 2 * anatomy.bodyHalfWidthMm + acq.uniform(25, 80)));
  const spacing = fov / columns;
  const reconCentre: [number, number] = [acq.uniform(-12, 12), acq.uniform(-5, 20)];
  const grid: AxialGrid = {
    columns,
    rows: columns,
    spacing,
    x0: reconCentre[0] - ((columns - 1) / 2) * spacing,
    y0: reconCentre[1] - ((columns - 1) / 2) * spacing,
  };
  const fovMask = new Uint8Array(columns * columns);
  for (let j = 0; j < columns; j++) {
    for (let i = 0; i < columns; i++) {
      const dx = i - (columns - 1) / 2;
      const dy = j - (columns - 1) / 2;
      fovMask[j * columns + i] = dx * dx + dy * dy <= (columns / 2) * (columns / 2) ? 1 : 0;
    }
  }
  // Thin slices: 1.0 or 1.25 mm when there are enough to cover the pancreas; thicker otherwise.
  const minimumCoverage = 105;
  const thin = Math.max(acq.pick([1.0, 1.25]), Math.ceil((minimumCoverage / slices) * 8) / 8);
  const coverage = thin * slices;
  const tumourZ = anatomy.tumour.centreLocal[2];
  const pancreasMid = (anatomy.pancreasZ[0] + anatomy.pancreasZ[1]) / 2 + acq.uniform(-8, 8);
  const margin = Math.max(0, coverage / 2 - 25);
  const zCentre = Math.min(tumourZ + margin, Math.max(tumourZ - margin, pancreasMid));
  const zTop = zCentre + ((slices - 1) / 2) * thin;
  const thinZ = Array.from({ length: slices }, (_, k) => zTop - k * thin);
  const translation: Vec3 = [acq.uniform(-8, 8), acq.uniform(-40, 10), -acq.uniform(120, 700)];
  const breathing = (): Vec3 => [acq.gaussian(0, 0.8), acq.gaussian(0, 1.5), Math.max(-9, Math.min(9, acq.gaussian(0, 3.5)))];
  const shifts: Record<ContrastPhase, Vec3> = { 'non-contrast': breathing(), arterial: breathing(), venous: breathing(), delayed: breathing() };
  const noiseSd = Math.min(20, Math.max(10, 10 + ((anatomy.bodyHalfWidthMm - 135) / 50) * 8 + acq.gaussian(0, 1.5)));

  // --- Which series --------------------------------------------------------------------------------
  const extras = options.extras ?? 'random';
  const want = (p: number): boolean => extras === 'all' || (extras === 'random' && acq.bool(p));
  const hasLocalizer = want(0.7);
  const hasNonContrast = want(0.55);
  const hasThick = want(0.5);
  const hasDelayed = want(0.35);
  const hasDoseReport = want(0.5);

  // --- Study-level attributes ------------------------------------------------------------------------
  const naming = options.naming ?? 'random';
  const roles: SeriesRole[] = [];
  if (hasLocalizer) roles.push('localizer');
  if (hasNonContrast) roles.push('non-contrast');
  roles.push('arterial');
  if (hasThick) roles.push('arterial-thick');
  roles.push('venous');
  if (hasThick) roles.push('venous-thick');
  if (hasDelayed) roles.push('delayed');
  if (hasDoseReport) roles.push('dose-report');
  const descriptions = new Map<SeriesRole, string>(roles.map((r) => [r, seriesDescription(names, r, naming)]));
  const studyDescription = naming === 'blank' ? '' : names.pick(['CT ABDOMEN PANCREAS PROTOCOL', 'CT Pancreas', 'Abdomen^Pancreas', 'CT 胰腺增强', '膵臓ダイナミックCT', 'CT Abdomen biphasisch']);
  const needsUtf8 = [...descriptions.values(), studyDescription].some((d) => !isAscii(d));
  const encodingName: PixelEncodingName = !options.encoding || options.encoding === 'random' ? meta.pick(PIXEL_ENCODING_NAMES) : options.encoding;
  const encoding = PIXEL_ENCODINGS[encodingName];
  const sex = meta.pick(['F', 'M'] as const);
  const ageYears = Math.round(meta.truncatedGaussian(67, 9, 40, 88));
  const studyDay = Math.floor(Date.UTC(2019, 0, 1) / 86400000) + meta.int(0, 1800);
  const birthDay = studyDay - Math.floor(ageYears * 365.25) - meta.int(1, 360);
  const weightKg = Math.max(42, 45 + (anatomy.bodyHalfWidthMm - 135) * 0.9 + meta.gaussian(0, 5) + (sex === 'M' ? 8 : 0));
  const heightM = meta.truncatedGaussian(sex === 'M' ? 1.75 : 1.62, 0.07, 1.45, 1.98);
  const studyStart = meta.int(7 * 3600 + 1800, 17 * 3600);
  const studyInstanceUID = syntheticUid(seed, 'study');
  const frameOfReferenceUID = syntheticUid(seed, 'frame-of-reference');
  const studyDate = dicomDate(studyDay);
  const study: StudyAttributes = {
    specificCharacterSet: needsUtf8 ? 'ISO_IR 192' : 'ISO_IR 100',
    patientName: `SYNTHETIC^TSR-${pad(seed, 6)}`,
    patientId: `SYN-${pad(seed, 6)}`,
    patientBirthDate: dicomDate(birthDay),
    patientSex: sex,
    patientAge: `${pad(ageYears, 3)}Y`,
    patientWeightKg: weightKg,
    patientSizeM: heightM,
    studyInstanceUID,
    studyDate,
    studyTime: dicomTime(studyStart),
    accessionNumber: `SYNACC${pad(seed % 100000000, 8)}`,
    studyId: `${pad(seed % 10000, 4)}`,
    studyDescription,
    frameOfReferenceUID,
    manufacturer: 'TSR-NODE SYNTHETIC',
    modelName: 'Virtual CT',
    institutionName: 'Synthetic Data Only',
    stationName: 'SYNCT01',
    deviceSerialNumber: 'SYN0001',
    softwareVersions: GENERATOR_VERSION.slice(0, 64),
  };

  // --- Timing (PHANTOM.md: pancreatic phase 35-50 s, portal venous 65-75 s after injection) ---------
  const injection = studyStart + acq.uniform(180, 300);
  const delays: Record<ContrastPhase, number> = {
    'non-contrast': -acq.uniform(60, 120),
    arterial: Math.round(acq.uniform(35, 50)),
    venous: Math.round(acq.uniform(65, 75)),
    delayed: Math.round(acq.uniform(150, 300)),
  };
  const timingMode = options.timingTags ?? 'random';
  const timingPresent = timingMode === 'present' || (timingMode === 'random' && !acq.bool(0.3));
  const orderMode = options.instanceOrder ?? 'random';
  const drawOrder = (): 'head-first' | 'feet-first' | 'shuffled' =>
    orderMode !== 'random' ? orderMode : (['head-first', 'feet-first', 'shuffled'] as const)[acq.weightedIndex([0.7, 0.15, 0.15])];
  const contrast: ContrastAttributes = {
    agent: acq.pick(['Iohexol 350', 'Iopromide 370', 'Iodixanol 320', 'Iopamidol 370']),
    route: 'IV',
    volumeMl: Math.round(Math.min(150, Math.max(70, weightKg * 1.3))),
    ingredient: 'IODINE',
    concentrationMgMl: 350,
    flowRateMlS: acq.pick([3.5, 4, 4.5, 5]),
    ...(timingPresent ? { startTime: dicomTime(injection) } : {}),
  };
  const kernel = acq.pick(['B30f', 'STANDARD', 'Br40', 'FC08', 'B']);
  const kvp = acq.pick([100, 120, 120, 120]);
  const patientPosition = acq.pick(['FFS', 'HFS']);

  let seriesNumber = 1;
  const seriesNumbers = new Map<SeriesRole, number>();
  // The dose report takes series number 999, as many scanners number it.
  for (const role of roles) seriesNumbers.set(role, role === 'dose-report' ? 999 : seriesNumber++);
  const seriesUID = (role: SeriesRole): string => syntheticUid(seed, 'series', role);
  const baseSeries = (role: SeriesRole, phase: ContrastPhase | null, thickness: number | undefined, spacingZ: number | undefined, acquisitionNumber: number): CtSeriesAttributes => {
    const start = phase === null ? studyStart + 30 : injection + delays[phase];
    return {
      seriesInstanceUID: seriesUID(role),
      seriesNumber: seriesNumbers.get(role)!,
      seriesDescription: descriptions.get(role) ?? '',
      protocolName: naming === 'blank' ? '' : 'Pancreas dual phase',
      seriesDate: studyDate,
      seriesTime: dicomTime(start),
      patientPosition,
      imageType: role === 'localizer' ? ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] : ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      kvp,
      tubeCurrentMa: role === 'localizer' ? 35 : Math.round(150 + (weightKg - 60) * 2.5),
      exposureTimeMs: role === 'localizer' ? 2000 : 500,
      convolutionKernel: kernel,
      reconstructionDiameterMm: fov,
      ...(thickness !== undefined ? { sliceThicknessMm: thickness } : {}),
      ...(spacingZ !== undefined ? { spacingBetweenSlicesMm: spacingZ } : {}),
      acquisitionNumber,
      acquisitionDate: studyDate,
      ...(timingPresent ? { acquisitionTime: dicomTime(start) } : {}),
      ...(role === 'localizer' ? {} : { ctdiVol: Math.round((8 + (weightKg - 60) * 0.15) * 100) / 100 }),
      ...(phase !== null && phase !== 'non-contrast' ? { contrast } : {}),
      encoding,
      rows: columns,
      columns,
      pixelSpacing: [spacing, spacing],
      imageOrientation: [1, 0, 0, 0, 1, 0],
    };
  };

  const ctx: Context = {
    seed,
    anatomy,
    hu: tissues.phases,
    grid,
    translation,
    study,
    encoding,
    fovMask,
    files: [],
    textureBank: bank(columns, Math.max(1, Math.round(1.6 / spacing)), 'texture'),
    noiseBank: bank(columns, 0, 'noise'),
  };
  const series: SeriesTruth[] = [];
  const record = (role: SeriesRole, phase: ContrastPhase | null, attributes: CtSeriesAttributes, count: number, order?: SeriesTruth['instanceOrder']): void => {
    series.push({
      seriesInstanceUID: attributes.seriesInstanceUID,
      seriesNumber: attributes.seriesNumber,
      role,
      seriesDescription: attributes.seriesDescription,
      instanceCount: count,
      contrastPhase: phase,
      ...(phase !== null && phase !== 'non-contrast' ? { delaySeconds: delays[phase] } : {}),
      ...(attributes.sliceThicknessMm !== undefined ? { sliceThicknessMm: attributes.sliceThicknessMm } : {}),
      ...(attributes.spacingBetweenSlicesMm !== undefined ? { spacingBetweenSlicesMm: attributes.spacingBetweenSlicesMm } : {}),
      timingTagsPresent: timingPresent,
      ...(order ? { instanceOrder: order } : {}),
    });
  };

  const thickPer = Math.max(1, Math.round(5 / thin));
  let acquisitionNumber = 1;
  const mainSpecs: AxialSeriesSpec[] = [];
  const irradiation: IrradiationEvent[] = [];
  for (const role of roles) {
    if (role === 'arterial-thick' || role === 'venous-thick') continue;
    if (role === 'localizer') {
      const scout = renderLocalizer(anatomy, tissues.phases, zCentre, Math.min(256, Math.max(64, columns / 2)));
      const attributes = baseSeries('localizer', null, undefined, undefined, acquisitionNumber++);
      attributes.rows = scout.rows;
      attributes.columns = scout.columns;
      attributes.pixelSpacing = [scout.rowSpacing, scout.columnSpacing];
      attributes.imageOrientation = [1, 0, 0, 0, 0, -1];
      attributes.reconstructionDiameterMm = 500;
      const sopInstanceUID = syntheticUid(seed, 'instance', attributes.seriesInstanceUID, 0);
      const dataset = ctImageDataset(study, attributes, {
        sopInstanceUID,
        instanceNumber: 1,
        imagePosition: [scout.x0 + translation[0], translation[1], scout.zTop + translation[2]],
        contentTime: dicomTime(studyStart + 30),
        pixelData: encodePixels(scout.values, { ...encoding, paddingValue: undefined }),
      });
      // The padding value describes the axial reconstruction circle; a projection has none.
      delete dataset.PixelPaddingValue;
      ctx.files.push({ relativePath: `S${pad(attributes.seriesNumber, 3)}/I0001.dcm`, seriesInstanceUID: attributes.seriesInstanceUID, sopInstanceUID, bytes: writePart10(dataset) });
      record('localizer', 'non-contrast', attributes, 1);
      irradiation.push({
        uid: syntheticUid(seed, 'irradiation', role),
        protocol: attributes.seriesDescription || 'Localizer',
        kind: 'localizer',
        scanningLengthMm: scout.rows * scout.rowSpacing,
        kvp,
        tubeCurrentMa: attributes.tubeCurrentMa,
        exposureTimeS: attributes.exposureTimeMs / 1000,
        ctdiVolMGy: 0.1,
        collimationMm: 0.6,
        pitch: 1,
      });
      continue;
    }
    if (role === 'dose-report') continue;
    const phase: ContrastPhase = role;
    const isMain = role === 'arterial' || role === 'venous';
    let zCentres = thinZ;
    let thickness = thin;
    let subSamples = 1;
    let sd = noiseSd;
    if (!isMain) {
      // Non-contrast and delayed: 5 mm (sometimes 3 mm) over a longer range, lower dose.
      thickness = acq.pick([5, 5, 3]);
      const extraCoverage = role === 'non-contrast' ? acq.uniform(20, 120) : acq.uniform(0, 40);
      const count = Math.max(4, Math.round((coverage + extraCoverage) / thickness));
      const top = zCentre + ((count - 1) / 2) * thickness;
      zCentres = Array.from({ length: count }, (_, k) => top - k * thickness);
      subSamples = thickness >= 5 ? 3 : 2;
      sd = noiseSd * 1.2 * Math.sqrt(thin / thickness);
    }
    const attributes = baseSeries(role, phase, thickness, thickness, acquisitionNumber++);
    const order = drawOrder();
    const thickRole: SeriesRole | undefined = hasThick && role === 'arterial' ? 'arterial-thick' : hasThick && role === 'venous' ? 'venous-thick' : undefined;
    const thickAttributes = thickRole ? baseSeries(thickRole, phase, thin * thickPer, thin * thickPer, attributes.acquisitionNumber) : undefined;
    const thickOrder = thickRole ? drawOrder() : 'head-first';
    const spec: AxialSeriesSpec = {
      role,
      phase,
      zCentres,
      thicknessMm: thickness,
      spacingMm: thickness,
      subSamples,
      noiseSdHu: sd,
      shift: shifts[phase],
      attributes,
      order,
      startSeconds: injection + delays[phase],
      ...(thickAttributes ? { thick: { attributes: thickAttributes, order: thickOrder, perSlice: thickPer } } : {}),
    };
    if (isMain) mainSpecs.push(spec);
    else writeAxialSeries(ctx, [spec]);
    record(role, phase, attributes, zCentres.length, order);
    const scanningLengthMm = zCentres.length * thickness + 20;
    irradiation.push({
      uid: syntheticUid(seed, 'irradiation', role),
      protocol: attributes.seriesDescription || attributes.protocolName || role,
      kind: 'spiral',
      scanningLengthMm,
      kvp,
      tubeCurrentMa: attributes.tubeCurrentMa,
      exposureTimeS: ds(scanningLengthMm / 40 / 0.9 * 0.5, 2),
      ctdiVolMGy: attributes.ctdiVol ?? 10,
      collimationMm: 40,
      pitch: 0.9,
    });
    if (thickRole && thickAttributes) record(thickRole, phase, thickAttributes, Math.floor(zCentres.length / thickPer), thickOrder);
  }
  writeAxialSeries(ctx, mainSpecs);
  if (hasDoseReport) {
    const number = seriesNumbers.get('dose-report')!;
    const sopInstanceUID = syntheticUid(seed, 'instance', seriesUID('dose-report'), 0);
    const end = injection + delays[hasDelayed ? 'delayed' : 'venous'] + 60;
    const dataset = doseReportDataset({
      study,
      seriesInstanceUID: seriesUID('dose-report'),
      seriesNumber: number,
      seriesDescription: descriptions.get('dose-report') ?? '',
      sopInstanceUID,
      contentDate: studyDate,
      contentTime: dicomTime(end),
      deviceObserverUID: syntheticUid('device', study.deviceSerialNumber),
      events: irradiation,
    });
    ctx.files.push({ relativePath: `S${pad(number, 3)}/I0001.dcm`, seriesInstanceUID: seriesUID('dose-report'), sopInstanceUID, bytes: writePart10(dataset) });
    series.push({
      seriesInstanceUID: seriesUID('dose-report'),
      seriesNumber: number,
      role: 'dose-report',
      seriesDescription: descriptions.get('dose-report') ?? '',
      instanceCount: 1,
      contrastPhase: null,
    });
  }
  ctx.files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  series.sort((a, b) => a.seriesNumber - b.seriesNumber);

  // --- Ground truth ------------------------------------------------------------------------------
  const toPatient = (p: Vec3): Vec3 => [p[0] + translation[0], p[1] + translation[1], p[2] + translation[2]];
  const phaseTruth = (phase: 'arterial' | 'venous'): PhaseTruth => {
    const s = shifts[phase];
    const c = anatomy.tumour.centreLocal;
    const centre = toPatient([c[0] + s[0], c[1] + s[1], c[2] + s[2]]);
    const box = tumourBounds(anatomy.tumour.shape, centre);
    const round3 = (v: Vec3): Vec3 => [round(v[0], 3), round(v[1], 3), round(v[2], 3)];
    const thickRole = phase === 'arterial' ? 'arterial-thick' : 'venous-thick';
    return {
      seriesInstanceUID: seriesUID(phase),
      ...(hasThick ? { thickSeriesInstanceUID: seriesUID(thickRole) } : {}),
      tumourCentre: round3(centre),
      boundingBox: { min: round3(box.min), max: round3(box.max) },
      breathingShiftMm: round3(s),
      delaySeconds: delays[phase],
    };
  };
  const scanLow = thinZ[thinZ.length - 1] + 4;
  const scanHigh = thinZ[0] + -4;
  const landmarks: LandmarkTruth[] = [];
  for (const name of LANDMARK_STRUCTURES) {
    const structure = anatomy.structures.find((x) => x.name === name)!;
    const found = findLandmark(anatomy, name, scanLow, scanHigh, [shifts.arterial, shifts.venous], (p) => tumourLevel(anatomy.tumour.shape, anatomy.tumour.centreLocal, p) <= 1.1);
    if (!found) continue;
    const at = (phase: 'arterial' | 'venous'): Vec3 => {
      const d = structure.moves ? shifts[phase] : ([0, 0, 0] as Vec3);
      const q = toPatient([found.point[0] + d[0], found.point[1] + d[1], found.point[2] + d[2]]);
      return [round(q[0], 2), round(q[1], 2), round(q[2], 2)];
    };
    landmarks.push({ structure: name, tissue: structure.tissue, clearanceMm: found.clearanceMm, arterial: at('arterial'), venous: at('venous') });
  }
  const vesselContact = measureVesselContact(anatomy.vessels, anatomy.tumour.shape, anatomy.tumour.centreLocal);
  const oracle = oracleScores(biology.enhancement);
  const text = findingsText(stream('findings'), {
    region: anatomy.tumour.region,
    diameterMm: anatomy.tumour.diameterMm,
    enhancement: biology.enhancement,
    vesselContact,
    ductDilated: anatomy.ductDilated,
  });
  const groundTruth: SyntheticGroundTruth = {
    schema: GROUND_TRUTH_SCHEMA,
    seed,
    generatorVersion: GENERATOR_VERSION,
    studyInstanceUID,
    frameOfReferenceUID,
    series,
    phases: { arterial: phaseTruth('arterial'), venous: phaseTruth('venous') },
    tumour: {
      region: anatomy.tumour.region,
      diameterMm: round(anatomy.tumour.diameterMm, 2),
      shape: anatomy.tumour.shape,
      stromaFraction: round(biology.stromaFraction, 4),
      label: biology.label,
      labelDefinition: LABEL_DEFINITION,
      enhancement: biology.enhancement,
      oracle,
      vesselContact,
      ductDilated: anatomy.ductDilated,
    },
    findingsText: text,
    tissueHu: { arterial: tissues.phases.arterial, venous: tissues.phases.venous },
    landmarks,
    acquisition: {
      columns,
      rows: columns,
      pixelSpacingMm: spacing,
      slices,
      sliceThicknessMm: thin,
      spacingBetweenSlicesMm: thin,
      encoding: encodingName,
      noiseSdHu: round(noiseSd, 2),
    },
    patient: { sex, ageYears, weightKg: round(weightKg, 1), heightM: round(heightM, 2) },
  };
  return { studyInstanceUID, files: ctx.files, groundTruth };
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}
