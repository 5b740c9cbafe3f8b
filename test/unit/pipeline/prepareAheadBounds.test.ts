/**
 * What prepare-ahead (src/pipeline/prepareAhead.ts) remembers per Orthanc study is bounded: the
 * studies seen arriving (a study deleted while it arrived never becomes stable, and none is
 * prepared while the worker is busy with a backlog) and the change each preparation had seen.
 * Fakes for Orthanc, the job store and the pipeline; no analysis runs.
 */
import { expect } from 'chai';
import type { JobStore } from '../../../src/jobs/jobStore';
import type { OrthancRestClient } from '../../../src/orthanc/orthancRest';
import type { StudyPipeline } from '../../../src/pipeline/analyseStudy';
import { PrepareAhead } from '../../../src/pipeline/prepareAhead';
import { PreparedResultCache } from '../../../src/pipeline/preparedResults';
import { nodeDevice } from '../../../src/results/device';
import { defaultSelectionRules } from '../../../src/study/selectionRules';

const pipeline = {
  models: { localizer: { identity: { name: 'loc', version: '1', sha256: 'l' } }, classifier: { identity: { name: 'cls', version: '1', sha256: 'c' } } },
  rules: defaultSelectionRules(),
  results: { store: true, srSeriesDescription: 'SR', scSeriesDescription: 'SC', device: nodeDevice('TSR-NODE') },
} as unknown as StudyPipeline;

/** Orthanc where every study is still arriving and its instances cannot be read: a preparation reads the change seq, then gives up. */
function fakeOrthanc(lastSeq: () => number, prepared: string[]): OrthancRestClient {
  return {
    getStudy: (id: string) => Promise.resolve({ id, studyInstanceUID: `1.2.${id.length}`, isStable: false }),
    getLastChangeSeq: () => Promise.resolve(lastSeq()),
    getStudySopInstanceUIDs: (id: string) => {
      prepared.push(id);
      return Promise.resolve(undefined);
    },
  } as unknown as OrthancRestClient;
}

function prepareAhead(options: { idle: () => boolean; maxTrackedStudies?: number; orthanc?: OrthancRestClient }): PrepareAhead {
  return new PrepareAhead({
    pipeline,
    orthanc: options.orthanc ?? fakeOrthanc(() => 0, []),
    store: {} as JobStore,
    cache: new PreparedResultCache(),
    quietMs: 0,
    isIdle: options.idle,
    ...(options.maxTrackedStudies !== undefined ? { maxTrackedStudies: options.maxTrackedStudies } : {}),
  });
}

const settle = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('pipeline/prepareAhead: what it keeps per study is bounded', () => {
  it('tracks at most maxTrackedStudies arriving studies while the worker is busy, dropping the one seen the longest ago', async () => {
    const prepared: string[] = [];
    let idle = false;
    const ahead = prepareAhead({ idle: () => idle, maxTrackedStudies: 3, orthanc: fakeOrthanc(() => 0, prepared) });
    try {
      for (const id of ['a', 'b', 'c', 'd', 'e']) ahead.studyActive(id, 1);
      expect(ahead.tracked).to.equal(3);
      // Seen again: it becomes the newest and is kept when the next one comes.
      ahead.studyActive('c', 2);
      ahead.studyActive('f', 3);
      expect(ahead.tracked).to.equal(3);
      idle = true;
      ahead.wake();
      await settle(100);
      expect(prepared.sort()).to.deep.equal(['c', 'e', 'f']);
      expect(ahead.tracked).to.equal(0);
    } finally {
      await ahead.stop();
    }
  });

  it('by default tracks 1000 studies, not one per study of a larger backlog', async () => {
    const ahead = prepareAhead({ idle: () => false });
    try {
      for (let i = 0; i < 1500; i++) ahead.studyActive(`study-${i}`, i);
      expect(ahead.tracked).to.equal(1000);
    } finally {
      await ahead.stop();
    }
  });

  it("remembers the change seen by at most maxTrackedStudies studies' preparations", async () => {
    let seq = 100;
    const ahead = prepareAhead({ idle: () => true, maxTrackedStudies: 2, orthanc: fakeOrthanc(() => seq, []) });
    try {
      // Prepared with changes up to 100: a change up to it does not make the study active again.
      ahead.studyActive('a', 1);
      await settle();
      ahead.studyActive('a', 100);
      expect(ahead.tracked).to.equal(0);
      // Two other studies prepared since: 'a' is forgotten, and its old change counts again.
      for (const id of ['b', 'c']) {
        seq++;
        ahead.studyActive(id, seq);
        await settle();
      }
      ahead.studyActive('c', seq);
      expect(ahead.tracked, 'c is still remembered').to.equal(0);
      ahead.studyActive('a', 100);
      expect(ahead.tracked, 'a was forgotten').to.equal(1);
    } finally {
      await ahead.stop();
    }
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => prepareAhead({ idle: () => true, maxTrackedStudies: 0 })).to.throw(RangeError);
  });
});
