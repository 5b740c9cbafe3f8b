/**
 * One dataset item, start to finish, for the worker threads of the dataset builder:
 *   - `synthetic-seed`: generate the study in memory (src/synthetic), keep its Part-10 bytes,
 *     assemble the two phase series from those bytes exactly as the node does after WADO-RS;
 *   - `folder-study`: read a study folder (Part-10 files, with or without ground-truth.json).
 * Then crops (and localiser grids + masks when the tumour mask is known) by the shared
 * preprocessing, .npy files, and the manifest item.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { AnalysisRefusedError } from '../errors';
import { localiseTumour } from '../inference/analyse';
import type { CropSpec, LocalizerSpec, Phase } from '../inference/manifest';
import { loadLocalisation, type ModelSet, type ModelsConfig } from '../inference/modelSet';
import type { Geometry, Vec3 } from '../study/geometry';
import { assembleVolumeFromFiles } from '../study/volumeAssembly';
import type { HuVolume } from '../study/volume';
import type { DatasetItem } from './datasetManifest';
import { extractItem, writeItemFiles } from './extractItem';
import { assembleSeriesFromFiles, GROUND_TRUTH_FILE, indexFilesBySeries, listStudyFiles, selectPhasesFromFiles } from './folderStudy';
import type { TsrLabel } from './labels';
import { roiJitter, type RoiSpec } from './roiSpec';
import { generateSyntheticStudy, syntheticStudyOptions, truthFacts, truthMask, truthPancreasMask, type TruthFacts } from './syntheticTruth';

export type StudyTask =
  | { kind: 'synthetic-seed'; n: number; seed: number }
  | { kind: 'folder-study'; n: number; dir: string; label?: TsrLabel; centreMm?: Vec3; studyInstanceUID?: string };

export interface WorkerSettings {
  outDir: string;
  crop: CropSpec;
  localizer: LocalizerSpec;
  /** The stage-2 region of interest (@2); items get it when the pancreas mask is known (seed ranges). */
  roi?: RoiSpec;
  /** Image size of generated studies (seed ranges). */
  synthetic?: { columns?: number; slices?: number; profile?: string };
  /** Use ground-truth.json beside folder studies (centres, findings text, masks). */
  useGroundTruth: boolean;
  /** The node's localiser (with its pancreas model when it is a two-stage one), for studies without a known centre. */
  models?: ModelsConfig;
}

/**
 * The localisation models, loaded once per worker thread (again only for other settings): the
 * localiser and, for a two-stage one, its checked pancreas model.
 */
let localisation: { key: string; models: Promise<Pick<ModelSet, 'localizer' | 'pancreas'>> } | undefined;

function localisationModels(config: ModelsConfig): Promise<Pick<ModelSet, 'localizer' | 'pancreas'>> {
  const key = JSON.stringify(config);
  if (localisation?.key !== key) localisation = { key, models: loadLocalisation({ ...config, intraOpThreads: 1 }) };
  return localisation.models;
}

function labelIndex(label: TsrLabel): 0 | 1 {
  return label === 'high' ? 1 : 0;
}

type MaskOnGrid = (phase: Phase, grid: Geometry) => Uint8Array;

function itemFromTruth(n: number, facts: TruthFacts, volumes: Record<Phase, HuVolume>, settings: WorkerSettings, masks: { tumour: MaskOnGrid; pancreas?: MaskOnGrid }, label: TsrLabel): DatasetItem {
  const centresMm = { arterial: facts.phases.arterial.centreMm, venous: facts.phases.venous.centreMm };
  const extracted = extractItem({
    volumes,
    centresMm,
    mask: masks.tumour,
    ...(masks.pancreas ? { pancreasMask: masks.pancreas } : {}),
    ...(masks.pancreas && settings.roi ? { roi: { spec: settings.roi, jitterMm: roiJitter(facts.seed, settings.roi.jitterMm) } } : {}),
    crop: settings.crop,
    localizer: settings.localizer,
  });
  const files = writeItemFiles(settings.outDir, n, extracted, settings.crop, settings.localizer, settings.roi);
  const item: DatasetItem = {
    id: facts.studyInstanceUID,
    label,
    labelIndex: labelIndex(label),
    ...files,
    provenance: {
      seed: facts.seed,
      centreSource: 'ground-truth',
      centresMm,
      seriesInstanceUIDs: { arterial: volumes.arterial.seriesInstanceUID, venous: volumes.venous.seriesInstanceUID },
    },
  };
  if (facts.findingsText) item.findingsText = facts.findingsText;
  if (facts.oracle) item.oracle = facts.oracle;
  return item;
}

async function syntheticSeed(task: Extract<StudyTask, { kind: 'synthetic-seed' }>, settings: WorkerSettings): Promise<DatasetItem> {
  const options = syntheticStudyOptions(task.seed, settings.synthetic ?? {});
  const study = generateSyntheticStudy(task.seed, settings.synthetic ?? {});
  const facts = truthFacts(study.groundTruth);
  const bytesOf = (phase: Phase): Buffer[] =>
    study.files.filter((f) => f.seriesInstanceUID === facts.phases[phase].seriesInstanceUID).map((f) => Buffer.from(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength));
  const volumes = { arterial: await assembleVolumeFromFiles(bytesOf('arterial')), venous: await assembleVolumeFromFiles(bytesOf('venous')) };
  const masks = { tumour: (phase: Phase, grid: Geometry) => truthMask(study.groundTruth, phase, grid), pancreas: (phase: Phase, grid: Geometry) => truthPancreasMask(options, phase, grid) };
  return itemFromTruth(task.n, facts, volumes, settings, masks, facts.label);
}

async function folderStudy(task: Extract<StudyTask, { kind: 'folder-study' }>, settings: WorkerSettings): Promise<DatasetItem> {
  const bySeries = indexFilesBySeries(listStudyFiles(task.dir));
  const truthFile = path.join(task.dir, GROUND_TRUTH_FILE);
  if (settings.useGroundTruth) {
    if (!existsSync(truthFile)) throw new AnalysisRefusedError('no-ground-truth', `${truthFile} is missing (--ground-truth was given)`);
    const truth: unknown = JSON.parse(readFileSync(truthFile, 'utf8'));
    const facts = truthFacts(truth);
    const label = task.label ?? facts.label;
    if (task.label !== undefined && task.label !== facts.label) {
      throw new AnalysisRefusedError('label-mismatch', `the labels CSV says ${task.label}, the ground truth of study ${facts.studyInstanceUID} says ${facts.label}`);
    }
    const volumes = await assembleSeriesFromFiles(bySeries, { arterial: facts.phases.arterial.seriesInstanceUID, venous: facts.phases.venous.seriesInstanceUID });
    // The pancreas mask needs the generator's options, which a folder does not record: @1 items.
    return itemFromTruth(task.n, facts, volumes, settings, { tumour: (phase, grid) => truthMask(truth, phase, grid) }, label);
  }
  // No ground truth: the node's phase selection, the CSV's centre or else the node's localiser.
  if (task.label === undefined) throw new AnalysisRefusedError('no-label', `no label for the study in ${task.dir}`);
  const selection = selectPhasesFromFiles(bySeries);
  if (!selection.analyzable || !selection.arterial || !selection.venous) {
    throw new AnalysisRefusedError(selection.reasonCode ?? 'not-analyzable', selection.reason ?? 'phase selection found no arterial and venous pair');
  }
  const volumes = await assembleSeriesFromFiles(bySeries, { arterial: selection.arterial.seriesInstanceUID, venous: selection.venous.seriesInstanceUID });
  if (task.studyInstanceUID !== undefined && volumes.venous.studyInstanceUID !== task.studyInstanceUID) {
    throw new AnalysisRefusedError('study-mismatch', `the files in ${task.dir} belong to study ${volumes.venous.studyInstanceUID}, not ${task.studyInstanceUID}`);
  }
  return itemWithoutTruth(task.n, volumes, task.label, task.centreMm, settings);
}

/** A study without ground truth: crops only, at the given centre or at the node's localiser's. */
export async function itemWithoutTruth(n: number, volumes: Record<Phase, HuVolume>, label: TsrLabel, centreMm: Vec3 | undefined, settings: WorkerSettings): Promise<DatasetItem> {
  let centresMm: Record<Phase, Vec3>;
  let centreSource: 'labels-csv' | 'localiser';
  if (centreMm) {
    // One annotated centre for both phases: they share a frame of reference (checked by the node's
    // analysis too); breathing shifts of a few mm stay inside the 80 mm crop.
    centresMm = { arterial: centreMm, venous: centreMm };
    centreSource = 'labels-csv';
  } else {
    if (!settings.models) throw new AnalysisRefusedError('no-centre', 'the labels CSV gives no tumour centre and no localiser model is configured');
    const found = await localiseTumour(await localisationModels(settings.models), volumes);
    centresMm = { arterial: found.localisation.arterial.centreMm, venous: found.localisation.venous.centreMm };
    centreSource = 'localiser';
  }
  const extracted = extractItem({ volumes, centresMm, crop: settings.crop, localizer: settings.localizer });
  const files = writeItemFiles(settings.outDir, n, extracted, settings.crop, settings.localizer);
  return {
    id: volumes.venous.studyInstanceUID,
    label,
    labelIndex: labelIndex(label),
    ...files,
    provenance: { centreSource, centresMm, seriesInstanceUIDs: { arterial: volumes.arterial.seriesInstanceUID, venous: volumes.venous.seriesInstanceUID } },
  };
}

export async function processStudyTask(task: StudyTask, settings: WorkerSettings): Promise<DatasetItem> {
  return task.kind === 'synthetic-seed' ? syntheticSeed(task, settings) : folderStudy(task, settings);
}
