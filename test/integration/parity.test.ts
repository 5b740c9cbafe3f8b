/**
 * Parity: the same synthetic study through the dataset builder (Part-10 files in a folder) and
 * through the node (uploaded to a real Orthanc, discovered, selected and retrieved with WADO-RS)
 * gives the same model inputs, bit for bit: HU volumes, classifier crops and localiser grids.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main';
import { createDicomWebClient, type DicomWebClientHandle } from '../../src/dicomweb/client';
import { buildDataset } from '../../src/dataset/buildDataset';
import type { DatasetManifest } from '../../src/dataset/datasetManifest';
import { analyseStudy } from '../../src/inference/analyse';
import type { Phase } from '../../src/inference/manifest';
import { releaseModels } from '../../src/inference/models';
import { loadModelSet } from '../../src/inference/modelSet';
import { extractCrop, extractLocalizerInputs } from '../../src/inference/preprocessing';
import { DEFAULT_CROP_SPEC, DEFAULT_LOCALIZER_SPEC } from '../../src/inference/specs';
import { extractItem } from '../../src/dataset/extractItem';
import { DEFAULT_ROI_SPEC, roiGridSpec } from '../../src/dataset/roiSpec';
import { truthMask, truthPancreasMask } from '../../src/dataset/syntheticTruth';
import { localizerGridGeometry, volumeCentre } from '../../src/inference/preprocessing';
import { roiCentreFromMask } from '../../src/inference/roiFinding';
import { loadStudyVolumes, type StudyVolumes } from '../../src/inference/studyRetrieval';
import { defaultSelectionRules } from '../../src/study/selectionRules';
import { assembleVolumeFromFiles } from '../../src/study/volumeAssembly';
import { generateStudy, writeStudyToFolder, type PixelEncodingName, type SyntheticStudy, type SyntheticStudyOptions } from '../../src/synthetic';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';

const PHASES: Phase[] = ['arterial', 'venous'];
const bytesOf = (a: Float32Array | Uint8Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('parity: dataset builder (folder) and node (Orthanc, WADO-RS) see identical model inputs', function () {
  this.timeout(180_000);
  let orthanc: OrthancInstance;
  let client: DicomWebClientHandle;
  let work: string;
  let manifest: DatasetManifest;
  // Two pixel encodings with different rescale, sign and padding, plus shuffled instance numbers.
  const cases: Array<{ seed: number; encoding: PixelEncodingName }> = [
    { seed: 501, encoding: 'int16-padded' },
    { seed: 502, encoding: 'uint16-slope-0.5' },
  ];
  const studies: SyntheticStudy[] = [];
  const options: SyntheticStudyOptions[] = [];
  const node = new Map<string, StudyVolumes>();

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'tsr-parity-'));
    orthanc = await startOrthanc();
    client = createDicomWebClient({ dicomWebUrl: orthanc.dicomWebUrl, username: orthanc.username, password: orthanc.password });
    for (const c of cases) {
      const o: SyntheticStudyOptions = { seed: c.seed, columns: 128, slices: 36, encoding: c.encoding, naming: 'english', instanceOrder: 'shuffled' };
      const study = generateStudy(o);
      studies.push(study);
      options.push(o);
      writeStudyToFolder(study, path.join(work, 'cohort', String(c.seed)));
      for (const f of study.files) await orthanc.rest('POST', '/instances', Buffer.from(f.bytes));
    }
    manifest = (await buildDataset({ source: { kind: 'folder', dir: path.join(work, 'cohort'), useGroundTruth: true }, outDir: path.join(work, 'dataset'), workers: 2, progress: false })).manifest;
    for (const study of studies) node.set(study.studyInstanceUID, await loadStudyVolumes(client, study.studyInstanceUID, { rules: defaultSelectionRules() }));
  });
  after(async () => {
    client?.close();
    await orthanc?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the node selects the ground truth phase series', () => {
    for (const study of studies) {
      const loaded = node.get(study.studyInstanceUID)!;
      for (const phase of PHASES) expect(loaded.volumes[phase].seriesInstanceUID).to.equal(study.groundTruth.phases[phase].seriesInstanceUID);
    }
  });

  it('HU volumes from WADO-RS equal those assembled from the Part-10 files', async () => {
    for (const study of studies) {
      for (const phase of PHASES) {
        const files = study.files.filter((f) => f.seriesInstanceUID === study.groundTruth.phases[phase].seriesInstanceUID).map((f) => Buffer.from(f.bytes));
        const fromFiles = await assembleVolumeFromFiles(files);
        const fromPacs = node.get(study.studyInstanceUID)!.volumes[phase];
        expect(fromPacs.geometry).to.deep.equal(fromFiles.geometry);
        expect(fromPacs.sopInstanceUIDs).to.deep.equal(fromFiles.sopInstanceUIDs);
        expect(bytesOf(fromPacs.data).equals(bytesOf(fromFiles.data)), `${phase} volume of seed ${study.groundTruth.seed}`).to.be.true;
      }
    }
  });

  it('classifier crops and localiser grids in the dataset equal the node’s, bit for bit', () => {
    for (const study of studies) {
      const item = manifest.items.find((i) => i.id === study.studyInstanceUID)!;
      const loaded = node.get(study.studyInstanceUID)!;
      const grids = extractLocalizerInputs(loaded.volumes, DEFAULT_LOCALIZER_SPEC);
      for (const phase of PHASES) {
        const crop = extractCrop(loaded.volumes[phase], study.groundTruth.phases[phase].tumourCentre, DEFAULT_CROP_SPEC);
        const grid = grids[phase].data;
        const written = readFileSync(path.join(work, 'dataset', item.crops[phase]));
        const writtenGrid = readFileSync(path.join(work, 'dataset', item.localizer![phase]));
        // The .npy payload follows its 128-byte header (the header length is fixed for these shapes).
        expect(written.subarray(written.length - crop.byteLength).equals(bytesOf(crop)), `${phase} crop`).to.be.true;
        expect(writtenGrid.subarray(writtenGrid.length - grid.byteLength).equals(bytesOf(grid)), `${phase} localiser grid`).to.be.true;
      }
    }
  });

  it('the dataset builder’s DICOMweb source writes the same venous crops as its folder source', async () => {
    // The CSV's one centre (here the venous ground truth, full precision) serves both phases.
    const csv = studies.map((st) => `${st.studyInstanceUID},${st.groundTruth.tumour.label},${st.groundTruth.phases.venous.tumourCentre.join(',')}`).join('\n');
    const out = path.join(work, 'from-pacs');
    const csvFile = path.join(work, 'pacs-labels.csv');
    writeFileSync(csvFile, csv + '\n');
    // Through the command line, credentials from the environment as an administrator would give them.
    const env = { TSR_ORTHANC_USERNAME: orthanc.username, TSR_ORTHANC_PASSWORD: orthanc.password, TSR_LOG_LEVEL: 'error' };
    Object.assign(process.env, env);
    const log = console.log;
    const error = console.error;
    console.log = () => undefined;
    console.error = () => undefined;
    let code: number;
    try {
      code = await main(['dataset', 'build', '--from-dicomweb', orthanc.dicomWebUrl, '--labels', csvFile, '--out', out, '--no-progress']);
    } finally {
      console.log = log;
      console.error = error;
      for (const key of Object.keys(env)) delete process.env[key];
    }
    expect(code).to.equal(0);
    const fromPacs = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as DatasetManifest;
    expect(fromPacs.source).to.equal(`DICOMweb ${orthanc.dicomWebUrl}`);
    expect(fromPacs.items.map((i) => i.id)).to.deep.equal(studies.map((st) => st.studyInstanceUID));
    for (const item of fromPacs.items) {
      const twin = manifest.items.find((i) => i.id === item.id)!;
      expect(item.provenance?.centreSource).to.equal('labels-csv');
      expect(readFileSync(path.join(out, item.crops.venous)).equals(readFileSync(path.join(work, 'dataset', twin.crops.venous)))).to.be.true;
    }
  });

  it('the cascade: one ROI centre from the true pancreas, and the builder’s stage-2 inputs (Part-10) equal the node’s (WADO-RS), bit for bit', async () => {
    for (const [n, study] of studies.entries()) {
      const files = (phase: Phase): Buffer[] => study.files.filter((f) => f.seriesInstanceUID === study.groundTruth.phases[phase].seriesInstanceUID).map((f) => Buffer.from(f.bytes));
      const fromFiles = { arterial: await assembleVolumeFromFiles(files('arterial')), venous: await assembleVolumeFromFiles(files('venous')) };
      // The builder, without jitter: the ROI centred on the true pancreas box (roiSpec.ts).
      const item = extractItem({
        volumes: fromFiles,
        centresMm: { arterial: study.groundTruth.phases.arterial.tumourCentre, venous: study.groundTruth.phases.venous.tumourCentre },
        mask: (phase, grid) => truthMask(study.groundTruth, phase, grid),
        pancreasMask: (phase, grid) => truthPancreasMask(options[n], phase, grid),
        roi: { spec: DEFAULT_ROI_SPEC, jitterMm: [0, 0, 0] },
        crop: DEFAULT_CROP_SPEC,
        localizer: DEFAULT_LOCALIZER_SPEC,
      });
      expect(item.roi, `seed ${study.groundTruth.seed}: the builder made no ROI`).to.not.equal(undefined);
      // The node: its ROI centre rule on the same mask on its own coarse grid, then its stage-2 inputs.
      const loaded = node.get(study.studyInstanceUID)!.volumes;
      const coarse = localizerGridGeometry(loaded.venous.geometry, DEFAULT_LOCALIZER_SPEC, volumeCentre(loaded.venous.geometry));
      const centre = roiCentreFromMask(truthPancreasMask(options[n], 'venous', coarse), coarse)!;
      expect(centre).to.deep.equal(item.roi!.centreMm);
      const inputs = extractLocalizerInputs(loaded, roiGridSpec(DEFAULT_ROI_SPEC), centre);
      for (const phase of PHASES) expect(bytesOf(inputs[phase].data).equals(bytesOf(item.roi!.inputs[phase])), `${phase} ROI input, seed ${study.groundTruth.seed}`).to.be.true;
    }
  });

  it('the analysis feeds its classifier the shared preprocessing of the retrieved volumes', async () => {
    const models = await loadModelSet({ dir: path.resolve(__dirname, '../fixtures/tiny-models'), classifier: 'tsr-clip-fusion', localizer: 'tsr-localizer', intraOpThreads: 1, executionProvider: 'cpu' });
    try {
      const loaded = node.get(studies[0].studyInstanceUID)!;
      // The tiny fixture localiser lights up anything bright; what matters here is the input path.
      const detail = await analyseStudy(models, { arterial: loaded.volumes.arterial, venous: loaded.volumes.venous });
      for (const phase of PHASES) {
        const expected = extractCrop(loaded.volumes[phase], detail.localisation[phase].centreMm, models.classifier.crop);
        expect(bytesOf(detail.crops[phase]).equals(bytesOf(expected))).to.be.true;
      }
      expect(detail.analysis.venous.keySopInstanceUID).to.be.oneOf(loaded.volumes.venous.sopInstanceUIDs);
    } finally {
      await releaseModels(models);
    }
  });
});
