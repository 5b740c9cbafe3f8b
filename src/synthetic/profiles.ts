/**
 * Centre profiles: what population and what scanner a synthetic cohort comes from. A profile is
 * data, one JSON file in src/synthetic/profiles/ (documented in docs/synthetic-data.md, "Centre
 * profiles"), read and checked here.
 *
 * - `baseline` (the default) is the generator as it was before profiles: `randomisation` is null,
 *   and every study is byte-identical to what the generator always made for its seed.
 * - The other profiles give the ranges each study's domain randomisation draws from (anatomy,
 *   acquisition, contrast, tumour, misregistration, and for training only intensities beyond
 *   the realistic range). Every draw comes from its own seeded stream and is recorded in the
 *   study's ground truth.
 * - A held-out profile (`heldOut: true`) stands for a centre that no training run may see:
 *   `tsr-node dataset build` refuses it; models are evaluated on it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PROJECT_ROOT } from '../paths';

/** The folder that holds one JSON file per profile. */
export const CENTRE_PROFILE_DIR = path.join(PROJECT_ROOT, 'src', 'synthetic', 'profiles');

export const DEFAULT_CENTRE_PROFILE = 'baseline';

const range = z
  .tuple([z.number(), z.number()])
  .refine(([low, high]) => low <= high, { message: 'a range is [low, high] with low <= high' });

const probability = z.number().min(0).max(1);
const weight = z.number().positive();

function weightedChoices<T extends z.ZodTypeAny>(value: T): z.ZodArray<z.ZodObject<{ value: T; weight: typeof weight }, z.core.$strict>> {
  return z.array(z.object({ value, weight }).strict()).min(1);
}

const regionWeights = z
  .object({ 'uncinate process': weight.or(z.literal(0)), head: weight.or(z.literal(0)), neck: weight.or(z.literal(0)), body: weight.or(z.literal(0)), tail: weight.or(z.literal(0)) })
  .strict();

/** Patients: habitus, organ sizes and positions, the pancreas, the position in the field of view. */
const populationSchema = z
  .object({
    /** Half the body's width at the pancreas (mm): thin about 120, obese up to about 220. */
    bodyHalfWidthMm: range,
    /** Body depth / width. */
    bodyDepthRatio: range,
    /** Subcutaneous fat, as a factor of what the habitus alone gives. */
    subcutaneousFatScale: range,
    /** Organ size factors. */
    organScale: z.object({ liver: range, spleen: range, kidneys: range }).strict(),
    /** SD (mm) of the liver, spleen, kidneys and stomach moving from their usual place, per axis. */
    organShiftSdMm: z.number().min(0).max(30),
    /** Stomach filling, 0 empty and collapsed to 1 distended. */
    stomachFilling: range,
    /** Number of small-bowel loops, and the factor on their calibre. */
    bowelLoops: z.tuple([z.number().int().min(1), z.number().int().max(30)]),
    bowelCalibreScale: range,
    pancreas: z
      .object({
        /** Factor on the gland's thickness (below about 0.75: an atrophic gland). */
        thicknessScale: range,
        /** SD (mm) of each point of its course moving from the usual course. */
        courseJitterMm: z.number().min(0).max(15),
        /** The tail higher (+) or lower than usual (mm). */
        tailHeightMm: range,
      })
      .strict(),
    /** Where the patient lies in the field of view: the reconstruction centre moves by this much (mm). */
    fieldOfViewOffsetMm: z.object({ x: range, y: range }).strict(),
  })
  .strict();

const reconstruction = z
  .object({
    /** SliceThickness (mm). */
    thicknessMm: z.number().min(0.5).max(5),
    /** SpacingBetweenSlices (mm); smaller than the thickness for overlapping reconstructions. */
    intervalMm: z.number().min(0.5).max(5),
    /** Length (mm) the thin phase series cover: limited for thin slices (the pancreas region). */
    coverageMm: range,
    weight,
  })
  .strict()
  .refine((r) => r.intervalMm <= r.thicknessMm, { message: 'intervalMm must not exceed thicknessMm' });

const kernel = z
  .object({
    /** ConvolutionKernel as the vendor writes it. */
    name: z.string().min(1).max(16),
    /** Noise texture: smooth kernels correlate the noise over more pixels (and lower its SD), sharp ones less. */
    sharpness: z.enum(['smooth', 'standard', 'sharp']),
    weight,
  })
  .strict();

/** The scanner and its protocol. */
const acquisitionSchema = z
  .object({
    /** Image matrix (Rows = Columns). */
    matrix: weightedChoices(z.number().int().min(256).max(1024)),
    /** PixelSpacing (mm); the field of view follows the body, within what matrix x spacing allows. */
    pixelSpacingMm: range,
    /** Thin phase series: thickness, interval and z coverage. */
    reconstructions: z.array(reconstruction).min(1),
    /** Tube voltage (KVP); iodine contrast grows at lower kV. */
    kvp: weightedChoices(z.number().int().min(70).max(150)),
    /** Dose relative to the usual for the habitus; noise SD goes as 1 / sqrt(dose). */
    doseFactor: range,
    kernels: z.array(kernel).min(1),
    /** Noise SD (HU) at 120 kV, 1.25 mm, dose 1 and a standard kernel, for the thinnest and widest patient. */
    noiseSdHu: range,
    /** How often the scanner leaves out ContrastBolusStartTime and AcquisitionTime. */
    timingTagsAbsent: probability,
    /** Series descriptions: the multilingual set, English only, or blank. */
    seriesNaming: z.enum(['random', 'english', 'blank']),
  })
  .strict();

/** Each patient's contrast: timing after injection and the strength of enhancement. */
const contrastSchema = z
  .object({
    arterialDelaySeconds: range,
    venousDelaySeconds: range,
    /** Patient factor on every iodine enhancement (cardiac output, weight-based dosing). */
    strength: range,
  })
  .strict();

const tumourSchema = z
  .object({
    /** Greatest diameter (mm) of a conspicuous tumour: truncated normal. */
    diameterMm: z.object({ mean: z.number().positive(), sd: z.number().positive(), range }).strict(),
    /** Greatest diameter of a tumour that is faint in the pancreatic phase (arterial contrast < 20 HU at 120 kV): smaller. */
    faintDiameterMm: z.object({ mean: z.number().positive(), sd: z.number().positive(), range }).strict(),
    regionWeights,
    shapeWeights: z.object({ round: weight.or(z.literal(0)), lobulated: weight.or(z.literal(0)), infiltrative: weight.or(z.literal(0)) }).strict(),
    /**
     * Share of tumours that are iso-attenuating whatever their stroma (TPC about 9 / 7 HU), on
     * top of those the stroma relation makes faint; the oracle integrates over it.
     */
    isoAttenuatingRate: probability,
    secondarySigns: z
      .object({
        /** A tumour in the head, uncinate process or neck (or body, for the tail's duct) dilates the duct upstream. */
        upstreamDuctDilation: probability,
        /** Given a dilated duct, the gland upstream is atrophic. */
        parenchymalAtrophy: probability,
        /** A tumour in the head or uncinate process dilates the common bile duct. */
        bileDuctDilation: probability,
      })
      .strict(),
  })
  .strict();

/** Organs moving between the two phases (breathing): SD per axis (x, y, z) and the largest distance. */
const misregistrationSchema = z
  .object({
    sdMm: z.tuple([z.number().min(0), z.number().min(0), z.number().min(0)]),
    maxMm: z.number().min(0).max(20),
  })
  .strict();

/** SynthSeg-style randomisation beyond the realistic range; for training profiles only. */
const intensitySchema = z
  .object({
    /** Every tissue's HU moved by a normal of this SD (HU), independently per phase; pancreas and tumour move together. */
    tissueHuSd: z.number().min(0).max(200),
    /** Noise SD (HU), drawn in this range instead of from the habitus. */
    noiseSdHu: range,
    /** In-plane Gaussian blur (FWHM, mm) of the rendered image before noise. */
    blurFwhmMm: range,
    /** Largest amplitude (HU) of a smooth additive bias field over the slice. */
    biasFieldHu: z.number().min(0).max(200),
  })
  .strict();

const randomisationSchema = z
  .object({
    population: populationSchema,
    acquisition: acquisitionSchema,
    contrast: contrastSchema,
    tumour: tumourSchema,
    misregistration: misregistrationSchema,
    intensity: intensitySchema.nullable(),
  })
  .strict();

const designRange = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);

export const centreProfileSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().min(1),
    /** Never used for training: `tsr-node dataset build` refuses it. */
    heldOut: z.boolean(),
    /** null: the baseline generator, unchanged. */
    randomisation: randomisationSchema.nullable(),
    /** The oracle AUCs this profile is designed for (500-study cohorts); the oracle report judges against them. */
    oracleDesign: z.object({ fused: designRange, singlePhase: designRange }).strict(),
  })
  .strict()
  .superRefine((profile, context) => {
    if (profile.heldOut && profile.randomisation?.intensity) {
      context.addIssue({ code: 'custom', path: ['randomisation', 'intensity'], message: 'intensities beyond the realistic range are for training profiles only' });
    }
  });

export type CentreProfile = z.infer<typeof centreProfileSchema>;
export type ProfileRandomisation = NonNullable<CentreProfile['randomisation']>;
export type PopulationRanges = ProfileRandomisation['population'];
export type AcquisitionRanges = ProfileRandomisation['acquisition'];
export type ContrastRanges = ProfileRandomisation['contrast'];
export type TumourRanges = ProfileRandomisation['tumour'];
export type IntensityRanges = NonNullable<ProfileRandomisation['intensity']>;
export type TumourShapeKind = keyof TumourRanges['shapeWeights'];

export class CentreProfileError extends Error {
  override readonly name = 'CentreProfileError';
}

function listProfileNames(): string[] {
  if (!existsSync(CENTRE_PROFILE_DIR)) return [];
  return readdirSync(CENTRE_PROFILE_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** The names of the profiles in src/synthetic/profiles/, sorted. */
export const CENTRE_PROFILE_NAMES: readonly string[] = Object.freeze(listProfileNames());

/** Checks a parsed profile; `source` names it in the error. */
export function parseCentreProfile(value: unknown, source: string): CentreProfile {
  const parsed = centreProfileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(profile)'}: ${issue.message}`).join('; ');
    throw new CentreProfileError(`centre profile ${source} is not valid: ${problems}`);
  }
  return parsed.data;
}

const cache = new Map<string, CentreProfile>();

/** Reads and checks src/synthetic/profiles/<name>.json; an unknown name's error lists the known ones. */
export function loadCentreProfile(name: string): CentreProfile {
  const cached = cache.get(name);
  if (cached) return cached;
  if (!CENTRE_PROFILE_NAMES.includes(name)) {
    throw new CentreProfileError(`unknown centre profile "${name}"; known profiles: ${CENTRE_PROFILE_NAMES.join(', ')}`);
  }
  const file = path.join(CENTRE_PROFILE_DIR, `${name}.json`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CentreProfileError(`centre profile ${name} (${file}) cannot be read: ${(err as Error).message}`);
  }
  const profile = parseCentreProfile(value, `${name} (${file})`);
  if (profile.name !== name) throw new CentreProfileError(`centre profile file ${name}.json names itself "${profile.name}"`);
  cache.set(name, profile);
  return profile;
}

/**
 * The randomised profile a generator option names, or undefined for the baseline. No option
 * means the baseline without reading any file, so the default generator never depends on them.
 */
export function randomisedProfile(profile: string | CentreProfile | undefined): CentreProfile | undefined {
  if (profile === undefined) return undefined;
  const resolved = typeof profile === 'string' ? loadCentreProfile(profile) : profile;
  return resolved.randomisation ? resolved : undefined;
}

/** Whether a profile name (from a ground truth) is a held-out profile; an unknown name counts as held out. */
export function isHeldOutProfile(name: string): boolean {
  return !CENTRE_PROFILE_NAMES.includes(name) || loadCentreProfile(name).heldOut;
}

/** Throws unless the profile may be used for training (not held out). */
export function checkTrainingProfile(name: string): CentreProfile {
  const profile = loadCentreProfile(name);
  if (profile.heldOut) {
    const trainable = CENTRE_PROFILE_NAMES.filter((known) => !loadCentreProfile(known).heldOut);
    throw new CentreProfileError(`centre profile "${name}" is held out for evaluation and never used for training; training profiles: ${trainable.join(', ')}`);
  }
  return profile;
}
