/**
 * Damaged DICOM, property-based (issue 24 item 4): a small CT series (8 slices of 24 x 32, four
 * pixel encodings, explicit or implicit VR) is damaged in one slice or in all of them: lengths,
 * VRs, missing and contradictory attributes, cut files, other transfer syntaxes, absurd rescale,
 * slices that disagree. For every case, both ways the node assembles a volume (from files; and
 * streamed into a plan made from the undamaged metadata, as WADO-RS retrieval does) must either
 * give the volume the undamaged series gives (its geometry, every voxel's HU) or refuse with an
 * AnalysisRefusedError whose code is a reason code, one the damage explains; never another error
 * (the job would end `internal-error`), and never a volume where the damage changes how the
 * pixels would be read.
 *
 * The run is deterministic: seed FUZZ_SEED, FUZZ_RUNS cases. Locally, e.g.
 *   TSR_FUZZ_RUNS=5000 TSR_FUZZ_SEED=random npx mocha test/unit/study/fuzzDamage.test.ts
 * A case that found a defect is kept in fuzzRegressions.test.ts.
 */
import fc from 'fast-check';
import { TAG, TRANSFER_SYNTAX } from '../../../src/dicom/dictionary';
import type { Damage, DamageCase } from './fuzzDamage';
import { checkCase } from './fuzzExpectations';
import { ENCODINGS } from './fuzzSeries';

export const FUZZ_SEED = 24_0304;
const runs = Number(process.env.TSR_FUZZ_RUNS ?? 400);
const seed = process.env.TSR_FUZZ_SEED === 'random' ? Date.now() : Number(process.env.TSR_FUZZ_SEED ?? FUZZ_SEED);

// --- The damage, as fast-check arbitraries ---------------------------------------------------

const usValue = fc.oneof(fc.constantFrom(0, 1, 2, 3, 8, 11, 12, 15, 16, 17, 23, 24, 25, 31, 32, 33, 48, 64, 4097, 32768, 65535), fc.integer({ min: 0, max: 65535 }));
const set = (tag: string, vr: string, values: fc.Arbitrary<number | string>): fc.Arbitrary<Damage> => values.map((value) => ({ kind: 'set', tag, vr, value }));
const texts = (...values: string[]): fc.Arbitrary<string> => fc.constantFrom(...values);

/** Damage that means the same in every slice as in one. */
const everySliceDamage: fc.Arbitrary<Damage> = fc.oneof(
  set(TAG.rows, 'US', usValue),
  set(TAG.columns, 'US', usValue),
  set(TAG.bitsAllocated, 'US', usValue),
  set(TAG.bitsStored, 'US', usValue),
  set(TAG.highBit, 'US', usValue),
  set(TAG.pixelRepresentation, 'US', fc.oneof(fc.constantFrom(0, 1), usValue)),
  set(TAG.samplesPerPixel, 'US', fc.constantFrom(0, 1, 2, 3, 4)),
  set(TAG.photometricInterpretation, 'CS', texts('RGB', 'PALETTE COLOR', 'YBR_FULL', '', 'MONOCHROME1', 'MONOCHROME3', 'monochrome2')),
  set(TAG.numberOfFrames, 'IS', texts('0', '1', '2', '3', '-1', '1.5', 'abc', '')),
  set(TAG.rescaleSlope, 'DS', texts('0', '-1', '-0.5', 'NaN', 'abc', '1e9', '1e-9', '0.001', 'Infinity', '11', '')),
  set(TAG.rescaleIntercept, 'DS', texts('1e9', '-1e9', 'NaN', 'abc', 'Infinity', '-Infinity', '40000', '-40000', '')),
  set(TAG.pixelSpacing, 'DS', texts('0\\0.8', '-0.7\\-0.8', 'abc', '0.7', '')),
  fc.integer({ min: 0, max: 40 }).map((bitsStored): Damage => ({ kind: 'bits', bitsStored })),
  fc
    .constantFrom(
      TAG.transferSyntaxUID,
      TAG.sopInstanceUID,
      TAG.sopClassUID,
      TAG.rows,
      TAG.columns,
      TAG.imagePositionPatient,
      TAG.imageOrientationPatient,
      TAG.pixelSpacing,
      TAG.bitsAllocated,
      TAG.bitsStored,
      TAG.highBit,
      TAG.pixelRepresentation,
      TAG.samplesPerPixel,
      TAG.photometricInterpretation,
      TAG.pixelData,
      TAG.rescaleSlope,
      TAG.rescaleIntercept,
      TAG.frameOfReferenceUID,
      TAG.seriesInstanceUID,
      TAG.studyInstanceUID,
      TAG.modality,
      TAG.sliceThickness,
      TAG.instanceNumber,
      TAG.imageType,
    )
    .map((tag): Damage => ({ kind: 'drop', tag })),
  fc
    .record({
      tag: fc.constantFrom(TAG.rows, TAG.columns, TAG.bitsAllocated, TAG.imagePositionPatient, TAG.rescaleSlope, TAG.rescaleIntercept, TAG.pixelData, TAG.sopInstanceUID, '00100010'),
      vr: fc.oneof(texts('OB', 'OW', 'SQ', 'UN', 'UT', 'SS', 'UL', 'FD', 'DS', 'CS', 'xx', '\0\0'), fc.string({ minLength: 2, maxLength: 2 })),
    })
    .map(({ tag, vr }): Damage => ({ kind: 'vr', tag, vr })),
  fc
    .record({
      tag: fc.constantFrom(TAG.rows, TAG.imagePositionPatient, TAG.rescaleIntercept, TAG.pixelData, TAG.sopInstanceUID, TAG.transferSyntaxUID, '00100010'),
      delta: fc.oneof(fc.constantFrom(-2, -1, 1, 2, 4, 0x10000, -0x10000), fc.integer({ min: -5000, max: 5000 })).filter((delta) => delta !== 0),
    })
    .map(({ tag, delta }): Damage => ({ kind: 'length', tag, delta })),
  fc.integer({ min: 0, max: 9999 }).map((tenThousandths): Damage => ({ kind: 'truncate', fraction: tenThousandths / 10_000 })),
  fc.oneof(fc.constantFrom(-1536, -2, -1, 1, 2, 1536), fc.integer({ min: -1000, max: 3000 })).map((delta): Damage => ({ kind: 'pixelBytes', delta })),
  texts(
    TRANSFER_SYNTAX.implicitVrLittleEndian,
    TRANSFER_SYNTAX.explicitVrLittleEndian,
    '1.2.840.10008.1.2.2',
    '1.2.840.10008.1.2.1.99',
    '1.2.840.10008.1.2.4.50',
    '1.2.840.10008.1.2.4.80',
    '1.2.840.10008.1.2.4.81',
    '1.2.840.10008.1.2.4.90',
    '1.2.840.10008.1.2.4.91',
    '1.2.840.10008.1.2.4.201',
    '1.2.840.10008.1.2.5',
    '1.2.3.4.5',
    '',
  ).map((uid): Damage => ({ kind: 'transferSyntax', uid })),
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }).map((bytes): Damage => ({ kind: 'trailing', bytes })),
  // Another size in every slice: the pixel count differs from the data's (the same count would be a valid series).
  fc
    .record({ rows: usValue, columns: usValue })
    .filter(({ rows, columns }) => rows * columns !== 24 * 32)
    .map(({ rows, columns }): Damage => ({ kind: 'size', rows, columns })),
  // Not two orthogonal unit vectors.
  fc.constantFrom([1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 2, 0], [1, 0, 0, 0.5, 0.866, 0]).map((cosines): Damage => ({ kind: 'orientation', cosines })),
);

/** Damage that only one slice can carry: the same change in every slice would be a different, valid series. */
const oneSliceDamage: fc.Arbitrary<Damage> = fc.oneof(
  // Any other size, Rows and Columns exchanged among them.
  fc.record({ rows: usValue, columns: usValue }).map(({ rows, columns }): Damage => ({ kind: 'size', rows, columns })),
  fc.constant<Damage>({ kind: 'size', rows: 32, columns: 24 }),
  set(TAG.pixelSpacing, 'DS', texts('0.7\\0.9', '0.8\\0.7', '0.7001\\0.8', '1\\1')),
  set(TAG.seriesInstanceUID, 'UI', texts('1.2.3.4', '2.25.1')),
  fc
    .tuple(fc.double({ min: -6, max: 6, noNaN: true }), fc.double({ min: -6, max: 6, noNaN: true }), fc.double({ min: -6, max: 6, noNaN: true }))
    .filter((by) => Math.max(...by.map(Math.abs)) >= 0.5)
    .map((by): Damage => ({ kind: 'move', by })),
  fc.constantFrom<[number, number, number][]>([0, 0, 1e300], [1e300, 0, 0], [0, 0, -1e16]).map((by): Damage => ({ kind: 'move', by })),
  fc
    .constantFrom([1, 0, 0, 0, 0, -1], [0, 1, 0, 0, 0, -1], [0.9998, 0.02, 0, -0.02, 0.9998, 0], [0.996, 0.0872, 0, -0.0872, 0.996, 0], [0, 1, 0, 1, 0, 0])
    .map((cosines): Damage => ({ kind: 'orientation', cosines })),
  fc.integer({ min: 0, max: 7 }).map((from): Damage => ({ kind: 'copyUid', from })),
);

const slice = fc.integer({ min: 0, max: 7 });
const caseFields = { encoding: fc.integer({ min: 0, max: ENCODINGS.length - 1 }), explicit: fc.boolean(), rotation: fc.integer({ min: 0, max: 7 }) };
export const damageCaseArbitrary: fc.Arbitrary<DamageCase> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ ...caseFields, damage: everySliceDamage, target: fc.oneof(slice, fc.constant<'all'>('all')) }) },
  {
    weight: 1,
    arbitrary: fc
      .record({ ...caseFields, damage: oneSliceDamage, target: slice })
      // A slice given its own SOPInstanceUID is not damaged.
      .filter((c) => c.damage.kind !== 'copyUid' || c.damage.from !== c.target),
  },
);

describe('study: damaged DICOM, property-based (fuzz)', function () {
  this.timeout(120_000);

  it('the undamaged series gives its volume both ways, for every encoding and VR form', async () => {
    for (let encoding = 0; encoding < ENCODINGS.length; encoding++) {
      for (const explicit of [true, false]) await checkCase({ encoding, explicit, damage: { kind: 'trailing', bytes: [] }, target: 'all', rotation: 3 });
    }
  });

  it(`${runs} damaged series (seed ${seed}): a volume equal to the undamaged one, or a refusal that names the damage`, async () => {
    await fc.assert(
      fc.asyncProperty(damageCaseArbitrary, async (damageCase) => {
        await checkCase(damageCase);
      }),
      { seed, numRuns: runs },
    );
  });
});
