import { expect } from 'chai';
import type { StudyPipelineResult } from '../../../src/pipeline/analyseStudy';
import { jobOutcomeOf } from '../../../src/pipeline/studyJobHandler';
import { nodeDevice } from '../../../src/results/device';
import { buildTsrResults } from '../../../src/results/resultObjects';
import type { PhaseSelection } from '../../../src/study/phaseSelection';
import { makeTsrFixture } from '../results/tsrFixture';

describe('pipeline/studyJobHandler: the job outcome names the SEG beside the SR and SC', () => {
  const f = makeTsrFixture({ size: 32, slices: 6 });
  const results = buildTsrResults({
    analysis: f.analysis,
    sourceMetadata: f.sourceMetadata,
    device: nodeDevice('TSR-NODE'),
    srSeriesDescription: 'SR',
    scSeriesDescription: 'SC',
    now: new Date('2025-03-01T10:20:30Z'),
    overlayPanelSize: 128,
  });
  const stored = { stored: [results.sr.sopInstanceUID, results.sc.sopInstanceUID, results.seg.sopInstanceUID], alreadyPresent: [], warnings: [] };
  const result: StudyPipelineResult = {
    studyInstanceUID: f.studyInstanceUID,
    selection: { analyzable: true } as unknown as PhaseSelection,
    analysis: f.analysis,
    results,
    stored,
    timingsMs: {},
    bytesRetrieved: 0,
  };

  it('records results.segSopInstanceUID and its series, and that it was stored', () => {
    const outcome = jobOutcomeOf(result).results as Record<string, unknown>;
    expect(outcome.segSopInstanceUID).to.equal(results.identity.segSopInstanceUID);
    expect(outcome.segSeriesInstanceUID).to.equal(results.identity.segSeriesInstanceUID);
    expect(outcome.srSopInstanceUID).to.equal(results.identity.srSopInstanceUID);
    expect(outcome.stored).to.include(results.identity.segSopInstanceUID);
  });
});
