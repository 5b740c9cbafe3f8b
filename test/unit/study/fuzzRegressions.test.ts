/**
 * The damage cases with which the fuzz suite (fuzzDamage.test.ts) found defects in the node as it
 * was before issue 24's checks, kept as fixed cases: each one ended in a volume (noise, or HU off),
 * or in an untyped error (the job's `internal-error`). Each must now be refused, both ways the
 * node assembles a volume, with the code written here.
 */
import { expect } from 'chai';
import { TAG } from '../../../src/dicom/dictionary';
import type { ReasonCode } from '../../../src/errors';
import type { DamageCase } from './fuzzDamage';
import { checkCase } from './fuzzExpectations';

interface Regression {
  /** What the node did before. */
  defect: string;
  damageCase: DamageCase;
  /** The code from files, and streamed into the plan of the undamaged metadata. */
  codes: [ReasonCode, ReasonCode];
}

const base = { explicit: true, rotation: 0 } as const;

const REGRESSIONS: Regression[] = [
  {
    defect: 'pixel data 2 bytes longer than Rows x Columns x 16 bits was read as if it fitted',
    damageCase: { ...base, encoding: 0, target: 2, damage: { kind: 'pixelBytes', delta: 2 } },
    codes: ['pixel-data-length-mismatch', 'pixel-data-length-mismatch'],
  },
  {
    defect: 'Columns 16 in every slice (the data has 32): a volume of noise',
    damageCase: { ...base, encoding: 0, target: 'all', damage: { kind: 'set', tag: TAG.columns, vr: 'US', value: 16 } },
    codes: ['pixel-data-length-mismatch', 'instance-mismatch'],
  },
  {
    defect: 'a 32 x 1 image in every slice: a volume of noise',
    damageCase: { ...base, explicit: false, encoding: 0, target: 'all', damage: { kind: 'size', rows: 32, columns: 1 } },
    codes: ['pixel-data-length-mismatch', 'instance-mismatch'],
  },
  {
    defect: 'Rows 59479 x Columns 10622 in every slice: a RangeError allocating the volume (internal-error)',
    damageCase: { ...base, encoding: 1, rotation: 7, target: 'all', damage: { kind: 'size', rows: 59479, columns: 10622 } },
    codes: ['implausible-image-size', 'instance-mismatch'],
  },
  {
    defect: 'BitsStored 8 with HighBit 15: pixels masked to 8 bits',
    damageCase: { ...base, encoding: 1, target: 1, damage: { kind: 'set', tag: TAG.bitsStored, vr: 'US', value: 8 } },
    codes: ['high-bit-mismatch', 'high-bit-mismatch'],
  },
  {
    defect: 'HighBit 0 in every slice: ignored',
    damageCase: { ...base, explicit: false, encoding: 0, target: 'all', damage: { kind: 'set', tag: TAG.highBit, vr: 'US', value: 0 } },
    codes: ['high-bit-mismatch', 'high-bit-mismatch'],
  },
  {
    defect: 'PixelRepresentation 0 on signed pixels stored as HU: negative CT numbers became 64,536 and more',
    damageCase: { ...base, explicit: false, encoding: 0, rotation: 3, target: 'all', damage: { kind: 'set', tag: TAG.pixelRepresentation, vr: 'US', value: 0 } },
    codes: ['implausible-rescale', 'implausible-rescale'],
  },
  {
    defect: 'PixelRepresentation 33: read as unsigned',
    damageCase: { ...base, explicit: false, encoding: 2, rotation: 6, target: 1, damage: { kind: 'set', tag: TAG.pixelRepresentation, vr: 'US', value: 33 } },
    codes: ['unsupported-pixel-format', 'unsupported-pixel-format'],
  },
  {
    defect: 'BitsStored 2 (HighBit 1) in every slice: every CT number folded into -2 to 1',
    damageCase: { ...base, encoding: 0, rotation: 4, target: 'all', damage: { kind: 'bits', bitsStored: 2 } },
    codes: ['implausible-rescale', 'implausible-rescale'],
  },
  {
    defect: 'RescaleSlope "NaN": silently taken as 1',
    damageCase: { ...base, encoding: 1, target: 3, damage: { kind: 'set', tag: TAG.rescaleSlope, vr: 'DS', value: 'NaN' } },
    codes: ['implausible-rescale', 'implausible-rescale'],
  },
  {
    defect: 'RescaleSlope 1e9: CT numbers in the billions, caught only indirectly by the phase check',
    damageCase: { ...base, explicit: false, encoding: 3, target: 'all', damage: { kind: 'set', tag: TAG.rescaleSlope, vr: 'DS', value: '1e9' } },
    codes: ['implausible-rescale', 'implausible-rescale'],
  },
  {
    defect: 'RescaleIntercept -1e9 in one slice',
    damageCase: { ...base, encoding: 1, rotation: 1, target: 6, damage: { kind: 'set', tag: TAG.rescaleIntercept, vr: 'DS', value: '-1e9' } },
    codes: ['implausible-rescale', 'implausible-rescale'],
  },
  {
    defect: 'RescaleIntercept missing (type 1 in CT) on pixels stored with intercept -1024: every CT number 1024 HU too high',
    damageCase: { ...base, encoding: 1, target: 'all', damage: { kind: 'drop', tag: TAG.rescaleIntercept } },
    codes: ['implausible-rescale', 'implausible-rescale'],
  },
  {
    defect: 'NumberOfFrames 0: taken as a single frame',
    damageCase: { ...base, encoding: 0, target: 4, damage: { kind: 'set', tag: TAG.numberOfFrames, vr: 'IS', value: '0' } },
    codes: ['invalid-dicom', 'invalid-dicom'],
  },
  {
    defect: 'one slice coronal, streamed: its orientation was never compared with the plan',
    damageCase: { ...base, explicit: false, encoding: 0, target: 2, damage: { kind: 'orientation', cosines: [1, 0, 0, 0, 0, -1] } },
    codes: ['mixed-orientations', 'instance-mismatch'],
  },
  {
    defect: 'one slice with another PixelSpacing, streamed: never compared with the plan',
    damageCase: { ...base, explicit: false, encoding: 0, target: 0, damage: { kind: 'set', tag: TAG.pixelSpacing, vr: 'DS', value: '0.7\\0.9' } },
    codes: ['mixed-image-size', 'instance-mismatch'],
  },
  {
    defect: 'one slice without PixelSpacing, streamed: accepted',
    damageCase: { ...base, explicit: false, encoding: 3, rotation: 4, target: 0, damage: { kind: 'drop', tag: TAG.pixelSpacing } },
    codes: ['missing-geometry', 'instance-mismatch'],
  },
  {
    defect: 'JPEG 2000 transfer syntax over native pixel data: the bytes were read as native',
    damageCase: { ...base, encoding: 0, target: 2, damage: { kind: 'transferSyntax', uid: '1.2.840.10008.1.2.4.91' } },
    codes: ['invalid-dicom', 'invalid-dicom'],
  },
];

describe('study: damage cases the fuzz suite found (fixed regressions)', () => {
  for (const { defect, damageCase, codes } of REGRESSIONS) {
    it(`refused: ${defect} -> ${codes[0]} / ${codes[1]}`, async () => {
      const outcomes = await checkCase(damageCase);
      expect(outcomes.map((outcome) => (outcome.error as { code?: string } | undefined)?.code)).to.deep.equal(codes);
    });
  }
});
