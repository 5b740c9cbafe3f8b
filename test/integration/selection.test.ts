/**
 * Discovery and phase selection against a real Orthanc (QIDO-RS, WADO-RS metadata, and WADO-RS
 * instances for image evidence): a cohort of synthetic studies with varied naming and timing, and
 * bad inputs that must each end in a specific reason.
 */
import { expect } from 'chai';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { defaultSelectionRules } from '../../src/study/selectionRules';
import { selectStudyPhases } from '../../src/study/studySelection';
import { generateStudy, type SyntheticStudy } from '../../src/synthetic';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries, uidFromText } from '../harness/simpleCtSeries';

/** Reason codes the node documents (docs/phase-selection.md); a refusal must use one of them. */
const DOCUMENTED_REASONS = new Set([
  'study-not-found',
  'no-ct-series',
  'unsupported-sop-class',
  'enhanced-multiframe-unsupported',
  'dose-report',
  'localizer-only',
  'wrong-body-part',
  'not-axial',
  'mixed-orientations',
  'missing-geometry',
  'derived-reformat',
  'mixed-frame-of-reference',
  'too-few-slices',
  'too-thick',
  'slice-gap',
  'duplicate-slices',
  'gantry-tilt',
  'uneven-spacing',
  'mixed-image-size',
  'invalid-orientation',
  'no-contrast-series',
  'single-phase',
  'phase-undetermined',
  'ambiguous-phases',
]);

const COHORT = 20;

describe('study selection against a real Orthanc', function () {
  this.timeout(300_000);
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;
  const rules = defaultSelectionRules();

  before(async () => {
    orthanc = await startOrthanc();
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
  });
  after(async () => {
    client?.close();
    await orthanc?.stop();
  });

  async function store(bytes: Uint8Array[]): Promise<void> {
    await client.store(bytes);
  }

  it(`picks the ground-truth arterial and venous series of ${COHORT} synthetic studies with varied naming and timing, or says why not`, async () => {
    const outcomes: { seed: number; analyzable: boolean; reason?: string; correct: boolean; roles: string }[] = [];
    for (let n = 0; n < COHORT; n++) {
      const seed = 7100 + n;
      // Every third study has blank names and no timing tags: only the images can tell.
      const blind = n % 3 === 2;
      const study: SyntheticStudy = generateStudy({
        seed,
        columns: 128,
        slices: 48,
        naming: blind ? 'blank' : 'random',
        timingTags: blind ? 'absent' : 'random',
        extras: 'random',
      });
      await store(study.files.map((f) => f.bytes));
      const result = await selectStudyPhases(client, study.studyInstanceUID, rules);
      const sel = result.selection;
      const truth = study.groundTruth;
      const roleOf = (uid: string | undefined): string => truth.series.find((s) => s.seriesInstanceUID === uid)?.role ?? 'none';
      const correct = sel.arterial?.seriesInstanceUID === truth.phases.arterial.seriesInstanceUID && sel.venous?.seriesInstanceUID === truth.phases.venous.seriesInstanceUID;
      outcomes.push({
        seed,
        analyzable: sel.analyzable,
        ...(sel.reasonCode ? { reason: sel.reasonCode } : {}),
        correct,
        roles: `${roleOf(sel.arterial?.seriesInstanceUID)}/${roleOf(sel.venous?.seriesInstanceUID)}`,
      });
      // Every series of the study was considered.
      expect(sel.candidates.map((c) => c.seriesInstanceUID)).to.have.members(truth.series.map((s) => s.seriesInstanceUID));
    }
    const report = JSON.stringify(outcomes);
    // Never a wrong choice: analyzable means exactly the ground-truth pair.
    for (const o of outcomes) {
      if (o.analyzable) expect(o.correct, report).to.equal(true);
      else expect(DOCUMENTED_REASONS.has(o.reason ?? ''), report).to.equal(true);
    }
    // And the node is useful: nearly all studies are analysable (the generator always writes both phases).
    expect(outcomes.filter((o) => o.analyzable).length, report).to.be.at.least(COHORT - 2);
  });

  // Bad inputs, built with the simple CT harness: each ends in its own reason.
  const simple = (seed: string, description: string, seriesNumber: number, studyInstanceUID?: string, extra: Record<string, unknown> = {}) =>
    makeSimpleCtSeries({
      seed,
      rows: 32,
      columns: 32,
      slices: 24,
      sliceThickness: 2,
      seriesNumber,
      seriesDescription: description,
      ...(studyInstanceUID ? { studyInstanceUID } : {}),
      extra: { ContrastBolusAgent: 'Iohexol', ...extra },
    });

  async function reasonOf(studyInstanceUID: string): Promise<string | undefined> {
    const result = await selectStudyPhases(client, studyInstanceUID, rules);
    expect(result.selection.analyzable).to.equal(false);
    expect(result.selection.reason).to.be.a('string').and.not.equal('');
    return result.selection.reasonCode;
  }

  it('a non-CT study: no-ct-series', async () => {
    const mr = simple('bad-mr', 'T1 arterial', 1, undefined, { Modality: 'MR', SOPClassUID: '1.2.840.10008.5.1.4.1.1.4' });
    await store(mr.instances.map((i) => i.part10));
    expect(await reasonOf(mr.studyInstanceUID)).to.equal('no-ct-series');
  });

  it('a single-phase study: single-phase', async () => {
    const art = simple('bad-single', 'Arterial', 1);
    await store(art.instances.map((i) => i.part10));
    expect(await reasonOf(art.studyInstanceUID)).to.equal('single-phase');
  });

  it('a series with a missing slice: slice-gap', async () => {
    const art = simple('bad-gap', 'Arterial', 1);
    const pv = simple('bad-gap', 'Portal venous', 2, art.studyInstanceUID);
    await store([...art.instances, ...pv.instances.filter((_, k) => k !== 10)].map((i) => i.part10));
    expect(await reasonOf(art.studyInstanceUID)).to.equal('slice-gap');
  });

  it('a series with mixed orientations: mixed-orientations', async () => {
    const art = simple('bad-orient', 'Arterial', 1);
    const pv = simple('bad-orient', 'Portal venous', 2, art.studyInstanceUID);
    // Same seed (same patient), another series number (other UIDs), coronal.
    const coronal = simple('bad-orient', 'Portal venous', 9, art.studyInstanceUID, { ImageOrientationPatient: [1, 0, 0, 0, 0, -1] });
    // Half the venous series axial, half coronal, under one SeriesInstanceUID.
    const mixedSeries = coronal.instances.slice(0, 12).map((i, k) =>
      simpleWithSeries(i.part10, pv.seriesInstanceUID, uidFromText(`bad-orient/mixed/${k}`)),
    );
    await store([...art.instances.map((i) => i.part10), ...pv.instances.slice(12).map((i) => i.part10), ...mixedSeries]);
    expect(await reasonOf(art.studyInstanceUID)).to.equal('mixed-orientations');
  });

  it('a study the PACS does not have: study-not-found', async () => {
    expect(await reasonOf(uidFromText('no such study'))).to.equal('study-not-found');
  });
});

/** A copy of an instance moved into another series, under a new SOP Instance UID (read and rewritten with dcmjs). */
function simpleWithSeries(part10: Buffer, seriesInstanceUID: string, sopInstanceUID: string): Buffer {
  /* eslint-disable @typescript-eslint/no-require-imports -- dcmjs ships no type declarations */
  const dcmjs = require('dcmjs') as {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer): { dict: Record<string, unknown>; meta: Record<string, unknown> } };
      DicomMetaDictionary: { naturalizeDataset(d: unknown): Record<string, unknown>; denaturalizeDataset(d: Record<string, unknown>): unknown };
      DicomDict: new (meta: unknown) => { dict: unknown; write(): ArrayBuffer };
    };
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { DicomMessage, DicomMetaDictionary, DicomDict } = dcmjs.data;
  const file = DicomMessage.readFile(new Uint8Array(part10).buffer);
  const ds = DicomMetaDictionary.naturalizeDataset(file.dict);
  const meta = DicomMetaDictionary.naturalizeDataset(file.meta);
  ds.SeriesInstanceUID = seriesInstanceUID;
  ds.SOPInstanceUID = sopInstanceUID;
  meta.MediaStorageSOPInstanceUID = sopInstanceUID;
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return Buffer.from(dict.write());
}
