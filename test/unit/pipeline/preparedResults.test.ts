/**
 * The cache of results prepared ahead of StableStudy (src/pipeline/preparedResults.ts): a job gets
 * an entry only for its own study, content fingerprint and preparation key; entries are bounded
 * in number and in time, and every entry that goes unused is reported with its reason.
 */
import { expect } from 'chai';
import type { StudyPipelineResult } from '../../../src/pipeline/analyseStudy';
import { preparationKey, PreparedResultCache, type PreparedResult } from '../../../src/pipeline/preparedResults';
import type { StudyPipeline } from '../../../src/pipeline/analyseStudy';
import { nodeDevice } from '../../../src/results/device';
import { defaultSelectionRules } from '../../../src/study/selectionRules';

const FP_A = 'sha256:2:aaaa';
const FP_B = 'sha256:3:bbbb';
const KEY = 'key-1';

function entry(studyInstanceUID: string, fingerprint: string, preparedAt: number, key = KEY): PreparedResult {
  return { studyInstanceUID, fingerprint, preparationKey: key, result: {} as StudyPipelineResult, preparedAt, preparedMs: 500, stagesMs: { retrieve: 200 } };
}

describe('pipeline/preparedResults: results prepared ahead of StableStudy', () => {
  let clock = 0;
  const now = (): number => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  describe('take: only for the same study, content and key', () => {
    const rows: Array<{ why: string; uid: string; fingerprint: string; key: string; used: boolean; reason?: string }> = [
      { why: 'same study, content and key', uid: '1.2.3', fingerprint: FP_A, key: KEY, used: true },
      { why: 'the study changed after it was prepared', uid: '1.2.3', fingerprint: FP_B, key: KEY, used: false, reason: 'content-changed' },
      { why: 'other models or settings', uid: '1.2.3', fingerprint: FP_A, key: 'key-2', used: false, reason: 'other-models-or-settings' },
      { why: 'another study: nothing prepared, nothing discarded', uid: '1.2.4', fingerprint: FP_A, key: KEY, used: false },
    ];
    for (const row of rows) {
      it(row.why, () => {
        const cache = new PreparedResultCache({ now });
        cache.put(entry('1.2.3', FP_A, clock));
        const r = cache.take(row.uid, row.fingerprint, row.key);
        expect(r.entry !== undefined, 'used').to.equal(row.used);
        expect(r.discarded?.reason).to.equal(row.reason);
        // The entry is gone after a take of its study, used or not.
        if (row.uid === '1.2.3') expect(cache.size).to.equal(0);
        else expect(cache.size).to.equal(1);
      });
    }

    it('is taken once: a second job of the same content gets nothing', () => {
      const cache = new PreparedResultCache({ now });
      cache.put(entry('1.2.3', FP_A, clock));
      expect(cache.take('1.2.3', FP_A, KEY).entry).to.exist;
      expect(cache.take('1.2.3', FP_A, KEY)).to.deep.equal({});
    });
  });

  describe('bounds', () => {
    it('expires entries after the TTL (and reports them), not before', () => {
      const cache = new PreparedResultCache({ now, ttlMs: 60_000 });
      cache.put(entry('1.2.3', FP_A, clock));
      clock += 59_999;
      expect(cache.has('1.2.3', FP_A, KEY)).to.be.true;
      expect(cache.expire()).to.deep.equal([]);
      clock += 1;
      expect(cache.has('1.2.3', FP_A, KEY)).to.be.false;
      const expired = cache.expire();
      expect(expired.map((d) => [d.entry.studyInstanceUID, d.reason])).to.deep.equal([['1.2.3', 'expired']]);
      expect(cache.size).to.equal(0);
    });

    it('an expired entry that a job asks for is discarded, not used', () => {
      const cache = new PreparedResultCache({ now, ttlMs: 1000 });
      cache.put(entry('1.2.3', FP_A, clock));
      clock += 1000;
      expect(cache.take('1.2.3', FP_A, KEY).discarded?.reason).to.equal('expired');
    });

    it('keeps at most maxEntries studies, evicting the oldest', () => {
      const cache = new PreparedResultCache({ now, maxEntries: 2 });
      expect(cache.put(entry('1.1', FP_A, clock))).to.deep.equal([]);
      expect(cache.put(entry('1.2', FP_A, clock + 1))).to.deep.equal([]);
      const out = cache.put(entry('1.3', FP_A, clock + 2));
      expect(out.map((d) => [d.entry.studyInstanceUID, d.reason])).to.deep.equal([['1.1', 'evicted']]);
      expect(cache.size).to.equal(2);
      expect(cache.has('1.2', FP_A, KEY) && cache.has('1.3', FP_A, KEY)).to.be.true;
    });

    it('one entry per study: a newer preparation replaces the older one', () => {
      const cache = new PreparedResultCache({ now });
      cache.put(entry('1.2.3', FP_A, clock));
      const out = cache.put(entry('1.2.3', FP_B, clock + 5));
      expect(out.map((d) => [d.entry.fingerprint, d.reason])).to.deep.equal([[FP_A, 'replaced']]);
      expect(cache.take('1.2.3', FP_B, KEY).entry?.fingerprint).to.equal(FP_B);
    });

    it('refuses nonsense bounds', () => {
      expect(() => new PreparedResultCache({ maxEntries: 0 })).to.throw(RangeError);
      expect(() => new PreparedResultCache({ ttlMs: 0 })).to.throw(RangeError);
    });
  });

  describe('preparationKey: models, selection rules and result settings', () => {
    const pipeline = (classifierSha: string, overrides: { rules?: object; srSeriesDescription?: string; store?: boolean } = {}): Pick<StudyPipeline, 'models' | 'rules' | 'results'> =>
      ({
        models: { classifier: { identity: { sha256: classifierSha } }, localizer: { identity: { sha256: 'loc' } } },
        rules: { ...defaultSelectionRules(), ...overrides.rules },
        results: { store: overrides.store ?? true, srSeriesDescription: overrides.srSeriesDescription ?? 'SR', scSeriesDescription: 'SC', device: nodeDevice('TSR-NODE') },
      }) as unknown as Pick<StudyPipeline, 'models' | 'rules' | 'results'>;

    it('is the same for the same models and settings, whether storing is on or off', () => {
      expect(preparationKey(pipeline('a'))).to.equal(preparationKey(pipeline('a', { store: false })));
    });

    it('differs with another model, other selection rules or other result settings', () => {
      const base = preparationKey(pipeline('a'));
      expect(preparationKey(pipeline('b'))).to.not.equal(base);
      expect(preparationKey(pipeline('a', { rules: { minSlices: 999 } }))).to.not.equal(base);
      expect(preparationKey(pipeline('a', { srSeriesDescription: 'other' }))).to.not.equal(base);
    });
  });
});
