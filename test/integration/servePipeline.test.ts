/**
 * The pipeline composition (src/pipeline/analyseStudy.ts) against a real Orthanc, with the tiny
 * fixture models: a dual-phase study goes in, an SR and an SC come back; a single-phase study is
 * refused with the selection's reason; a second run stores nothing new.
 */
import { expect } from 'chai';
import { AnalysisRefusedError } from '../../src/errors';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { releaseModels } from '../../src/inference/models';
import { loadModelSet, type ModelSet } from '../../src/inference/modelSet';
import { analyseStudyPipeline, type StudyPipeline } from '../../src/pipeline/analyseStudy';
import { nodeDevice } from '../../src/results/device';
import { defaultSelectionRules } from '../../src/study/selectionRules';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSphereStudy, TINY_MODELS_DIR, uploadSphereStudy } from './serveStudyFixture';

describe('pipeline: one study end to end (real Orthanc, tiny models)', function () {
  this.timeout(120_000);
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;
  let models: ModelSet;
  let pipeline: StudyPipeline;

  before(async () => {
    orthanc = await startOrthanc();
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
    models = await loadModelSet({ dir: TINY_MODELS_DIR, classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', intraOpThreads: 1, executionProvider: 'cpu' });
    pipeline = {
      dicomWeb: client,
      models,
      rules: defaultSelectionRules(),
      results: { store: true, srSeriesDescription: 'TSR AI report (research use)', scSeriesDescription: 'TSR AI overlay (research use)', device: nodeDevice('TSR-NODE') },
      now: () => new Date('2025-01-02T03:04:05Z'),
    };
  });

  after(async () => {
    client?.close();
    if (models) await releaseModels(models);
    await orthanc?.stop();
  });

  it('selects both phases, analyses them and stores the SR, the SC and the SEG; a second run adds nothing', async () => {
    const study = makeSphereStudy({ seed: 'pipeline-both' });
    await uploadSphereStudy(orthanc, study);
    const stages: string[] = [];
    const first = await analyseStudyPipeline(pipeline, study.studyInstanceUID, { onStage: (s) => stages.push(s) });
    expect(first.selection.analyzable).to.be.true;
    expect(first.selection.arterial?.seriesInstanceUID).to.equal(study.arterial.seriesInstanceUID);
    expect(first.selection.venous?.seriesInstanceUID).to.equal(study.venous.seriesInstanceUID);
    expect(first.analysis.tumour.confidence).to.be.above(0.5);
    expect(first.stored?.stored).to.have.members([first.results.sr.sopInstanceUID, first.results.sc.sopInstanceUID, first.results.seg.sopInstanceUID]);
    expect(stages).to.include.members(['discover', 'select', 'retrieve', 'localise', 'classify', 'buildResults', 'store']);
    expect(first.bytesRetrieved).to.be.greaterThan(2 * 24 * 96 * 96 * 2);
    const srs = await client.searchInstances(study.studyInstanceUID, first.results.sr.seriesInstanceUID);
    expect(srs).to.have.length(1);

    const second = await analyseStudyPipeline(pipeline, study.studyInstanceUID);
    expect(second.results.sr.sopInstanceUID).to.equal(first.results.sr.sopInstanceUID);
    expect(second.stored?.stored).to.deep.equal([]);
    expect(second.stored?.alreadyPresent).to.have.length(3);
    const instances = await client.searchInstances(study.studyInstanceUID);
    expect(instances).to.have.length(2 * 24 + 3);
  });

  it('refuses a single-phase study with the selection reason, storing nothing', async () => {
    const study = makeSphereStudy({ seed: 'pipeline-single' });
    await uploadSphereStudy(orthanc, study, ['venous']);
    let selectionSeen = false;
    const err = await analyseStudyPipeline(pipeline, study.studyInstanceUID, { onSelection: () => void (selectionSeen = true) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AnalysisRefusedError);
    expect((err as AnalysisRefusedError).code).to.equal('single-phase');
    expect(selectionSeen).to.be.true;
    expect(await client.searchInstances(study.studyInstanceUID)).to.have.length(24);
  });

  it('with store off, analyses without writing to the PACS', async () => {
    const study = makeSphereStudy({ seed: 'pipeline-nostore' });
    await uploadSphereStudy(orthanc, study);
    const result = await analyseStudyPipeline(pipeline, study.studyInstanceUID, { store: false });
    expect(result.stored).to.be.undefined;
    expect(result.analysis.label).to.be.oneOf(['low', 'high']);
    expect(await client.searchInstances(study.studyInstanceUID)).to.have.length(48);
  });
});
