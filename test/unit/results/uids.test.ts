import { expect } from 'chai';
import { resultIdentity, uuidDerivedUid } from '../../../src/results/uids';

const base = {
  studyInstanceUID: '1.2.826.0.1.3680043.8.498.1',
  inputSopInstanceUIDs: ['1.2.3.1', '1.2.3.2', '1.2.3.3'],
  modelSha256s: ['a'.repeat(64), 'b'.repeat(64)],
};

describe('results/uids: deterministic result identity', () => {
  it('gives the same UIDs for the same input and models, whatever their order', () => {
    const a = resultIdentity(base);
    const b = resultIdentity({ ...base, inputSopInstanceUIDs: [...base.inputSopInstanceUIDs].reverse(), modelSha256s: ['B'.repeat(64), 'a'.repeat(64)] });
    expect(b).to.deep.equal(a);
  });

  const changes: Array<[string, Partial<typeof base>]> = [
    ['another study', { studyInstanceUID: '1.2.826.0.1.3680043.8.498.2' }],
    ['one more input instance', { inputSopInstanceUIDs: [...base.inputSopInstanceUIDs, '1.2.3.4'] }],
    ['one input instance fewer', { inputSopInstanceUIDs: base.inputSopInstanceUIDs.slice(1) }],
    ['a retrained classifier', { modelSha256s: ['c'.repeat(64), 'b'.repeat(64)] }],
  ];
  for (const [why, change] of changes) {
    it(`gives new UIDs for ${why}`, () => {
      const a = resultIdentity(base);
      const b = resultIdentity({ ...base, ...change });
      for (const k of ['srSeriesInstanceUID', 'srSopInstanceUID', 'scSeriesInstanceUID', 'scSopInstanceUID', 'segSeriesInstanceUID', 'segSopInstanceUID', 'trackingUID'] as const) {
        expect(b[k], k).to.not.equal(a[k]);
      }
    });
  }

  it('writes 2.25 UIDs of a version-8, RFC 9562 variant UUID, at most 64 characters, all distinct', () => {
    const id = resultIdentity(base);
    const uids = [
      id.srSeriesInstanceUID,
      id.srSopInstanceUID,
      id.scSeriesInstanceUID,
      id.scSopInstanceUID,
      id.segSeriesInstanceUID,
      id.segSopInstanceUID,
      id.segDimensionOrganizationUID,
      id.trackingUID,
    ];
    expect(new Set(uids).size).to.equal(8);
    for (const uid of uids) {
      expect(uid).to.match(/^2\.25\.(0|[1-9]\d*)$/);
      expect(uid.length).to.be.at.most(64);
      const hex = BigInt(uid.slice(5)).toString(16).padStart(32, '0');
      expect(hex[12], 'version nibble').to.equal('8');
      expect(['8', '9', 'a', 'b'], 'variant').to.include(hex[16]);
    }
  });

  it('keeps the SR and SC UIDs of earlier releases (the SEG UIDs were added beside them)', () => {
    // The values the release before the SEG derived for `base`: adding the SEG changed none of them.
    const id = resultIdentity(base);
    expect(id.srSeriesInstanceUID).to.equal('2.25.4932645496503285746344410570960716959');
    expect(id.srSopInstanceUID).to.equal('2.25.107484184363028560212852703747519640463');
    expect(id.scSeriesInstanceUID).to.equal('2.25.333394469593733843018223290958461181518');
    expect(id.scSopInstanceUID).to.equal('2.25.326274134440392181451701691473808076944');
    expect(id.trackingUID).to.equal('2.25.292593904239204987737964850954561383784');
  });

  it('is a pure function of its text', () => {
    expect(uuidDerivedUid('x')).to.equal(uuidDerivedUid('x'));
    expect(uuidDerivedUid('x')).to.not.equal(uuidDerivedUid('y'));
  });

  it('refuses input it cannot identify', () => {
    expect(() => resultIdentity({ ...base, studyInstanceUID: 'abc' })).to.throw(/studyInstanceUID/);
    expect(() => resultIdentity({ ...base, inputSopInstanceUIDs: [] })).to.throw(/inputSopInstanceUIDs/);
    expect(() => resultIdentity({ ...base, modelSha256s: ['1234'] })).to.throw(/modelSha256s/);
  });
});
