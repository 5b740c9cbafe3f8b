/**
 * Recognising our own results coming back as new work (src/pipeline/ownResults.ts): a study whose
 * content is an earlier done job's plus that job's results, made by the same model set, needs no
 * new analysis; anything else does.
 */
import { expect } from 'chai';
import type { StageIdentity } from '../../../src/inference/result';
import type { Job, JsonValue } from '../../../src/jobs/jobStore';
import { studyContentFingerprint } from '../../../src/orthanc/studyFingerprint';
import { findEarlierJobWithOwnResults, madeByModels } from '../../../src/pipeline/ownResults';

const MODELS: StageIdentity[] = [
  { role: 'localizer', name: 'loc', version: '1', sha256: 'b'.repeat(64) },
  { role: 'classifier', name: 'cls', version: '1', sha256: 'a'.repeat(64) },
];
const SOURCE = ['1.2.3.1', '1.2.3.2', '1.2.3.3'];
const RESULTS = ['2.25.1', '2.25.2'];

function doneJob(id: number, outcome: JsonValue, overrides: Partial<Job> = {}): Job {
  return {
    id,
    studyInstanceUID: '1.2.3',
    fingerprint: studyContentFingerprint(SOURCE),
    source: 'feed',
    state: 'done',
    attempts: 1,
    createdAt: '2026-12-07T00:00:00.000Z',
    updatedAt: '2026-12-07T00:00:00.000Z',
    outcome,
    resultUids: RESULTS,
    ...overrides,
  };
}

const outcomeOf = (models: StageIdentity[]): JsonValue => Object.fromEntries(models.map(({ role, ...identity }) => [role, identity]));

describe('pipeline/ownResults: our own results coming back', () => {
  it('madeByModels: every stage of the set by role and sha256', () => {
    expect(madeByModels(doneJob(1, outcomeOf(MODELS)), MODELS)).to.equal(true);
    const otherLocalizer = MODELS.map((model) => (model.role === 'localizer' ? { ...model, sha256: 'c'.repeat(64) } : model));
    expect(madeByModels(doneJob(1, outcomeOf(otherLocalizer)), MODELS)).to.equal(false);
    // The same hashes under swapped roles are other models.
    const swapped = MODELS.map((model): StageIdentity => ({ ...model, role: model.role === 'localizer' ? 'classifier' : 'localizer' }));
    expect(madeByModels(doneJob(1, outcomeOf(swapped)), MODELS)).to.equal(false);
    expect(madeByModels(doneJob(1, null), MODELS)).to.equal(false);
  });

  it('finds the done job whose content plus its results is the study now', () => {
    const earlier = doneJob(1, outcomeOf(MODELS));
    expect(findEarlierJobWithOwnResults([earlier], new Set([...SOURCE, ...RESULTS]), MODELS)?.id).to.equal(1);
  });

  it('finds none when an instance was added, a result is gone, the models differ, or it is the job itself', () => {
    const earlier = doneJob(1, outcomeOf(MODELS));
    expect(findEarlierJobWithOwnResults([earlier], new Set([...SOURCE, '1.2.3.4', ...RESULTS]), MODELS)).to.equal(undefined);
    expect(findEarlierJobWithOwnResults([earlier], new Set([...SOURCE, RESULTS[0]]), MODELS)).to.equal(undefined);
    const newer = MODELS.map((model) => (model.role === 'classifier' ? { ...model, sha256: 'd'.repeat(64) } : model));
    expect(findEarlierJobWithOwnResults([earlier], new Set([...SOURCE, ...RESULTS]), newer)).to.equal(undefined);
    expect(findEarlierJobWithOwnResults([earlier], new Set([...SOURCE, ...RESULTS]), MODELS, 1)).to.equal(undefined);
    expect(findEarlierJobWithOwnResults([doneJob(1, outcomeOf(MODELS), { state: 'failed' })], new Set([...SOURCE, ...RESULTS]), MODELS)).to.equal(undefined);
  });

  describe('after a result that superseded an earlier one (supersede.ts)', () => {
    const EXTRA = ['1.2.3.9'];
    const NEW_RESULTS = ['2.25.7', '2.25.8'];
    const first = doneJob(1, outcomeOf(MODELS));
    // Its content was the source, the extra series and the first job's results.
    const withSupersedes = (deleted?: string[]): JsonValue => ({ ...(outcomeOf(MODELS) as Record<string, JsonValue>), results: { supersedes: { jobId: 1, ...(deleted ? { deleted } : {}) } } });

    it('keep: the content held the earlier results, and still does', () => {
      const second = doneJob(2, withSupersedes(), { fingerprint: studyContentFingerprint([...SOURCE, ...EXTRA, ...RESULTS]), resultUids: NEW_RESULTS });
      expect(findEarlierJobWithOwnResults([second, first], new Set([...SOURCE, ...EXTRA, ...RESULTS, ...NEW_RESULTS]), MODELS)?.id).to.equal(2);
    });

    it('delete: the content held the earlier results, which the job deleted', () => {
      const second = doneJob(2, withSupersedes(RESULTS), { fingerprint: studyContentFingerprint([...SOURCE, ...EXTRA, ...RESULTS]), resultUids: NEW_RESULTS });
      expect(findEarlierJobWithOwnResults([second, first], new Set([...SOURCE, ...EXTRA, ...NEW_RESULTS]), MODELS)?.id).to.equal(2);
      // Anything else changed: new work.
      expect(findEarlierJobWithOwnResults([second, first], new Set([...SOURCE, ...NEW_RESULTS]), MODELS)).to.equal(undefined);
      expect(findEarlierJobWithOwnResults([second, first], new Set([...SOURCE, ...EXTRA, '1.2.3.10', ...NEW_RESULTS]), MODELS)).to.equal(undefined);
    });
  });
});
