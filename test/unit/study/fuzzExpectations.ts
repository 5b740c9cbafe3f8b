/**
 * What each damage of the fuzz suite (fuzzDamage.ts) must lead to, and the check of one case:
 * both ways the node assembles a volume (from files; streamed into a plan made from the undamaged
 * metadata, as WADO-RS retrieval does) either give the volume the undamaged series gives (its
 * geometry, every voxel's HU), or refuse with an AnalysisRefusedError whose code is a reason code
 * the damage explains. Any other error would end the job `internal-error`.
 */
import { expect } from 'chai';
import { TAG, TRANSFER_SYNTAX } from '../../../src/dicom/dictionary';
import { AnalysisRefusedError, isReasonCode, type ReasonCode } from '../../../src/errors';
import { decideOnFailure } from '../../../src/jobs/retryPolicy';
import { parseInstance } from '../../../src/study/instanceParser';
import type { HuVolume } from '../../../src/study/volume';
import { assembleVolumeFromFiles, sliceDescriptorFromParsed, VolumeAssembly } from '../../../src/study/volumeAssembly';
import { planVolumeOrThrow, type VolumePlan } from '../../../src/study/volumePlan';
import { damagedSeries, type Damage, type DamageCase } from './fuzzDamage';
import { ENCODINGS, expectedHu, writeSlice, type SeriesSpec } from './fuzzSeries';

export function specOf(damageCase: DamageCase): SeriesSpec {
  return { seed: 'fuzz', rows: 24, columns: 32, slices: 8, pixelSpacing: [0.7, 0.8], thickness: 2.5, encoding: ENCODINGS[damageCase.encoding] };
}

/** What a case must end in: a refusal (with one of `codes`, any reason code if absent), or either a refusal or the undamaged volume. */
export interface Expectation {
  mustRefuse: boolean;
  codes?: ReasonCode[];
}
const refuse = (codes?: ReasonCode[]): Expectation => (codes === undefined ? { mustRefuse: true } : { mustRefuse: true, codes });
const refuseOrExact = (codes?: ReasonCode[]): Expectation => (codes === undefined ? { mustRefuse: false } : { mustRefuse: false, codes });
const EXACT = refuseOrExact([]);

const SIZE_CODES: ReasonCode[] = ['truncated-pixel-data', 'pixel-data-length-mismatch', 'invalid-dicom', 'missing-geometry', 'mixed-image-size', 'implausible-image-size', 'instance-mismatch'];
const GEOMETRY_CODES: ReasonCode[] = ['missing-geometry', 'instance-mismatch'];
const STEP_CODES: ReasonCode[] = ['uneven-spacing', 'slice-gap', 'duplicate-slices', 'gantry-tilt', 'instance-mismatch'];

function expectSet(damage: Extract<Damage, { kind: 'set' }>, spec: SeriesSpec): Expectation {
  const { value } = damage;
  const encoding = spec.encoding;
  switch (damage.tag) {
    case TAG.rows:
      return value === spec.rows ? EXACT : refuse(SIZE_CODES);
    case TAG.columns:
      return value === spec.columns ? EXACT : refuse(SIZE_CODES);
    case TAG.bitsAllocated:
      return value === 16 ? EXACT : refuse(['unsupported-pixel-format', 'bits-stored-exceed-allocated', 'pixel-data-length-mismatch', 'truncated-pixel-data']);
    case TAG.bitsStored:
      if (value === encoding.bitsStored) return EXACT;
      return refuse([(value as number) > 16 ? 'bits-stored-exceed-allocated' : value === 0 ? 'unsupported-pixel-format' : 'high-bit-mismatch']);
    case TAG.highBit:
      return value === encoding.bitsStored - 1 ? EXACT : refuse(['high-bit-mismatch']);
    case TAG.pixelRepresentation:
      if (value === encoding.pixelRepresentation) return EXACT;
      return value === 0 || value === 1 ? refuseOrExact(['implausible-rescale']) : refuse(['unsupported-pixel-format']);
    case TAG.samplesPerPixel:
      return value === 1 ? EXACT : refuse(['unsupported-pixel-format']);
    case TAG.photometricInterpretation:
      return /^MONOCHROME[12]$/.test(String(value)) ? EXACT : refuse(['unsupported-pixel-format']);
    case TAG.numberOfFrames:
      return value === '1' || value === '' ? EXACT : refuse(['enhanced-multiframe-unsupported', 'invalid-dicom']);
    case TAG.rescaleSlope:
    case TAG.rescaleIntercept:
      // Only absurd values are generated: every one of them must be refused.
      return refuse(['implausible-rescale']);
    case TAG.seriesInstanceUID:
      return refuseOrExact(['mixed-series']);
    case TAG.pixelSpacing:
      return refuse(['mixed-image-size', ...GEOMETRY_CODES]);
    default:
      throw new Error(`no expectation for setting ${damage.tag}`);
  }
}

const DROP_EXPECTATIONS: Record<string, Expectation> = {
  [TAG.transferSyntaxUID]: refuse(['invalid-dicom']),
  [TAG.sopInstanceUID]: refuse(['invalid-dicom']),
  [TAG.rows]: refuse(['invalid-dicom', ...GEOMETRY_CODES]),
  [TAG.columns]: refuse(['invalid-dicom', ...GEOMETRY_CODES]),
  [TAG.imagePositionPatient]: refuse(GEOMETRY_CODES),
  [TAG.imageOrientationPatient]: refuse(GEOMETRY_CODES),
  [TAG.pixelSpacing]: refuse(GEOMETRY_CODES),
  [TAG.bitsAllocated]: refuse(['unsupported-pixel-format']),
  [TAG.photometricInterpretation]: refuse(['unsupported-pixel-format']),
  [TAG.pixelData]: refuse(['no-pixel-data']),
  [TAG.rescaleSlope]: refuse(['implausible-rescale']),
  [TAG.rescaleIntercept]: refuse(['implausible-rescale']),
  // BitsStored defaults to BitsAllocated: harmless for 16-bit encodings, HighBit 11 contradicts it for 12 bits.
  [TAG.bitsStored]: refuseOrExact(['high-bit-mismatch']),
  // PixelRepresentation defaults to 0 (unsigned): refused where that cannot reach air.
  [TAG.pixelRepresentation]: refuseOrExact(['implausible-rescale']),
  [TAG.frameOfReferenceUID]: refuseOrExact(['mixed-frame-of-reference']),
};

/** What the damage of a case must lead to (see the file's comment). */
export function expectationOf(damageCase: DamageCase): Expectation {
  const { damage } = damageCase;
  const spec = specOf(damageCase);
  switch (damage.kind) {
    case 'set':
      return expectSet(damage, spec);
    case 'bits':
      if (damage.bitsStored === spec.encoding.bitsStored) return EXACT;
      if (damage.bitsStored > 16) return refuse(['bits-stored-exceed-allocated']);
      // Fewer bits: harmless while the stored range still holds -1000 to 999 HU, refused when it cannot.
      return damage.bitsStored === 0 ? refuse(['unsupported-pixel-format']) : refuseOrExact(['implausible-rescale']);
    case 'drop':
      return DROP_EXPECTATIONS[damage.tag] ?? EXACT;
    case 'vr':
      return refuseOrExact();
    case 'length':
      return damage.tag === TAG.pixelData ? refuse() : refuseOrExact();
    case 'truncate':
      return refuse();
    case 'pixelBytes':
      return damage.delta === 0 ? EXACT : refuse([damage.delta > 0 ? 'pixel-data-length-mismatch' : 'truncated-pixel-data']);
    case 'transferSyntax': {
      const written = damageCase.explicit ? TRANSFER_SYNTAX.explicitVrLittleEndian : TRANSFER_SYNTAX.implicitVrLittleEndian;
      return damage.uid === written ? EXACT : refuse(['unsupported-transfer-syntax', 'invalid-dicom', 'truncated-instance']);
    }
    case 'size':
      return damage.rows === spec.rows && damage.columns === spec.columns ? EXACT : refuse(SIZE_CODES);
    case 'move':
      return refuse(STEP_CODES);
    case 'orientation':
      return damageCase.target === 'all' ? refuse(['invalid-orientation', 'instance-mismatch']) : refuse(['mixed-orientations', 'invalid-orientation', 'instance-mismatch']);
    case 'copyUid':
      return refuse(['duplicate-instance', 'instance-mismatch']);
    case 'trailing':
      return EXACT;
  }
}

const undamagedPlans = new Map<string, VolumePlan>();

/** The plan WADO-RS metadata of the undamaged series gives (what the node plans from before the pixels come). */
function undamagedPlan(spec: SeriesSpec, explicit: boolean): VolumePlan {
  const key = `${spec.encoding.name}/${explicit}`;
  let plan = undamagedPlans.get(key);
  if (plan === undefined) {
    const headers = Array.from({ length: spec.slices }, (_, k) => parseInstance(writeSlice(spec, k, explicit).bytes, { headerOnly: true }));
    plan = planVolumeOrThrow(headers.map(sliceDescriptorFromParsed));
    undamagedPlans.set(key, plan);
  }
  return plan;
}

/** The retrieval path: a plan from the undamaged metadata, the damaged instances streamed into it. */
async function streamed(spec: SeriesSpec, damageCase: DamageCase, parts: Buffer[]): Promise<HuVolume> {
  const plan = undamagedPlan(spec, damageCase.explicit);
  const assembly = new VolumeAssembly(plan, { studyInstanceUID: plan.studyInstanceUID!, seriesInstanceUID: plan.seriesInstanceUID! });
  for (const part of parts) await assembly.addInstance(part);
  return assembly.finish();
}

function checkVolume(volume: HuVolume, spec: SeriesSpec, how: string): void {
  const g = volume.geometry;
  expect(g.dims, `${how}: dims`).to.deep.equal([spec.columns, spec.rows, spec.slices]);
  expect(g.spacing[0], `${how}: spacing`).to.be.closeTo(spec.pixelSpacing[1], 1e-6);
  expect(g.spacing[1], `${how}: spacing`).to.be.closeTo(spec.pixelSpacing[0], 1e-6);
  expect(g.spacing[2], `${how}: spacing`).to.be.closeTo(spec.thickness, 1e-6);
  expect(g.origin, `${how}: origin`).to.deep.equal([-50, -40, 0]);
  const axes = [...g.rowDirection, ...g.columnDirection, ...g.normal];
  [1, 0, 0, 0, 1, 0, 0, 0, 1].forEach((value, i) => expect(axes[i], `${how}: direction cosine ${i}`).to.be.closeTo(value, 0.011));
  const expected = expectedHu(spec);
  let wrong = 0;
  for (let i = 0; i < expected.length; i++) if (volume.data[i] !== expected[i]) wrong++;
  expect(wrong, `${how}: voxels with other HU than the undamaged series`).to.equal(0);
}

function checkRefusal(err: unknown, expectation: Expectation, how: string): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  expect(err, `${how}: not a refusal: ${text}`).to.be.instanceOf(AnalysisRefusedError);
  const refusal = err as AnalysisRefusedError;
  expect(isReasonCode(refusal.code), `${how}: ${refusal.code} is not a reason code`).to.equal(true);
  if (expectation.codes !== undefined) expect(expectation.codes, `${how}: refused with ${refusal.code}: ${refusal.message}`).to.include(refusal.code);
  expect(refusal.message, `${how}: the message`).to.match(/\S/).and.not.match(/undefined|\[object /);
  // The job would end skipped with this code, never internal-error.
  const decision = decideOnFailure(refusal, 1, { maxAttempts: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 1 }, new Date());
  expect(decision.action, how).to.equal('skip');
}

/** How one way of assembling a case ended: a volume, or what it threw. */
export interface Outcome {
  how: 'from files' | 'streamed into the metadata plan';
  volume?: HuVolume;
  error?: unknown;
}

/** Assembles the damaged series of a case both ways. */
export async function runCase(damageCase: DamageCase): Promise<Outcome[]> {
  const spec = specOf(damageCase);
  const parts = damagedSeries(spec, damageCase);
  const ways: [Outcome['how'], () => Promise<HuVolume>][] = [
    ['from files', () => assembleVolumeFromFiles(parts)],
    ['streamed into the metadata plan', () => streamed(spec, damageCase, parts)],
  ];
  const outcomes: Outcome[] = [];
  for (const [how, assemble] of ways) {
    try {
      outcomes.push({ how, volume: await assemble() });
    } catch (error) {
      outcomes.push({ how, error });
    }
  }
  return outcomes;
}

/** Runs one case both ways and checks each outcome against the damage's expectation. */
export async function checkCase(damageCase: DamageCase): Promise<Outcome[]> {
  const spec = specOf(damageCase);
  const expectation = expectationOf(damageCase);
  const outcomes = await runCase(damageCase);
  for (const { how, volume, error } of outcomes) {
    if (volume === undefined) {
      checkRefusal(error, expectation, how);
    } else {
      expect(expectation.mustRefuse, `${how}: a volume from damaged input`).to.equal(false);
      checkVolume(volume, spec, how);
    }
  }
  return outcomes;
}
