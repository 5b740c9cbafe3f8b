/**
 * `tsr-node dataset build`: a training dataset (datasetManifest.ts) from
 *   - a synthetic seed range, generated in memory (nothing but the dataset is written);
 *   - a folder of studies (one sub-folder per study, Part-10 files, optionally ground-truth.json);
 *   - a DICOMweb server (studies loaded by the node's discovery, selection and retrieval).
 * Generation, reading, assembly and extraction run on worker threads (all cores); the DICOMweb
 * source runs in this thread (it waits on the network, not the CPU).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CropSpec, LocalizerSpec, Phase } from '../inference/manifest';
import type { ModelsConfig } from '../inference/modelSet';
import { cloneCropSpec, cloneLocalizerSpec } from '../inference/specs';
import { silentLogger, type Logger } from '../logging/logger';
import { PACKAGE_VERSION } from '../paths';
import { checkTrainingSeeds, EVALUATION_SEED_START } from '../common/seedRanges';
import { parseInstance } from '../study/instanceParser';
import type { HuVolume } from '../study/volume';
import { DATASET_SCHEMA, type DatasetItem, type DatasetManifest, type SkippedStudy } from './datasetManifest';
import { GROUND_TRUTH_FILE, listStudyFiles } from './folderStudy';
import type { LabelRow } from './labels';
import { createProgressBar, type ProgressBar } from '../common/progressBar';
import { itemWithoutTruth, type StudyTask, type WorkerSettings } from './studyTasks';
import { LABEL_DEFINITION, GENERATOR_DESCRIPTION } from './syntheticTruth';
import { checkTrainingProfile, DEFAULT_CENTRE_PROFILE, isHeldOutProfile } from '../synthetic/profiles';
import { runInWorkers } from './workerPool';
import { cloneRoiSpec, type RoiSpec } from './roiSpec';

export type DatasetSource =
  | { kind: 'synthetic-seeds'; from: number; to: number; columns?: number; slices?: number; profile?: string }
  | { kind: 'folder'; dir: string; labels?: LabelRow[]; useGroundTruth: boolean }
  | { kind: 'studies'; description: string; labels: LabelRow[]; load: (studyInstanceUID: string) => Promise<Record<Phase, HuVolume>> };

export interface BuildDatasetOptions {
  source: DatasetSource;
  outDir: string;
  crop?: CropSpec;
  localizer?: LocalizerSpec;
  /** The stage-2 region of interest (@2 items, for studies whose pancreas is known); default DEFAULT_ROI_SPEC. */
  roi?: RoiSpec;
  /** Worker threads; default: the number of CPUs. */
  workers?: number;
  /** The node's localiser, for studies without a known tumour centre. */
  models?: ModelsConfig;
  labelDefinition?: string;
  /** Progress bar on stderr (default true). */
  progress?: boolean;
  logger?: Logger;
  now?: () => Date;
}

export interface BuildDatasetResult {
  manifest: DatasetManifest;
  manifestPath: string;
  seconds: number;
}

export class DatasetBuildError extends Error {
  override readonly name = 'DatasetBuildError';
}

interface Plan {
  tasks: StudyTask[];
  skipped: SkippedStudy[];
  description: string;
}

function planSeeds(source: Extract<DatasetSource, { kind: 'synthetic-seeds' }>): Plan {
  checkTrainingSeeds(source.from, source.to);
  // A held-out centre profile never goes into training data.
  if (source.profile !== undefined) checkTrainingProfile(source.profile);
  const tasks: StudyTask[] = [];
  for (let seed = source.from, n = 0; seed <= source.to; seed++, n++) tasks.push({ kind: 'synthetic-seed', n, seed });
  const profile = source.profile !== undefined && source.profile !== DEFAULT_CENTRE_PROFILE ? `, centre profile ${source.profile}` : '';
  return { tasks, skipped: [], description: `synthetic seeds ${source.from}..${source.to} (${GENERATOR_DESCRIPTION}${profile})` };
}

function studyFolders(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DatasetBuildError(`${dir} is not a folder`);
  return readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name))
    .filter((p) => statSync(p).isDirectory());
}

/** StudyInstanceUID of a folder study: from its ground truth, else from the first readable file. */
function folderStudyUid(folder: string, useGroundTruth: boolean): { uid?: string; seed?: number; profile?: string } {
  if (useGroundTruth) {
    const file = path.join(folder, GROUND_TRUTH_FILE);
    if (!existsSync(file)) return {};
    const truth = JSON.parse(readFileSync(file, 'utf8')) as { studyInstanceUID?: string; seed?: number; profile?: string };
    return { uid: truth.studyInstanceUID, seed: truth.seed, ...(truth.profile !== undefined ? { profile: truth.profile } : {}) };
  }
  for (const file of listStudyFiles(folder)) {
    try {
      const uid = parseInstance(readFileSync(file), { headerOnly: true }).studyInstanceUID;
      if (uid) return { uid };
    } catch {
      // not a DICOM instance; try the next file
    }
  }
  return {};
}

function planFolder(source: Extract<DatasetSource, { kind: 'folder' }>): Plan {
  if (!source.useGroundTruth && !source.labels) throw new DatasetBuildError('a folder without --ground-truth needs --labels');
  const byUid = new Map<string, { folder: string; seed?: number; profile?: string }>();
  for (const folder of studyFolders(source.dir)) {
    const { uid, ...found } = folderStudyUid(folder, source.useGroundTruth);
    if (uid) byUid.set(uid, { folder, ...found });
  }
  const skipped: SkippedStudy[] = [];
  const tasks: StudyTask[] = [];
  const heldOut = (uid: string, found: { seed?: number; profile?: string }): boolean => {
    if (found.profile !== undefined && isHeldOutProfile(found.profile)) {
      skipped.push({ id: uid, code: 'held-out-profile', reason: `centre profile ${found.profile} is held out for evaluation` });
      return true;
    }
    if (found.seed === undefined || found.seed < EVALUATION_SEED_START) return false;
    skipped.push({ id: uid, code: 'held-out-seed', reason: `synthetic seed ${found.seed} is reserved for evaluation (>= ${EVALUATION_SEED_START})` });
    return true;
  };
  if (source.labels) {
    for (const row of source.labels) {
      const found = byUid.get(row.studyInstanceUID);
      if (!found) {
        skipped.push({ id: row.studyInstanceUID, code: 'study-not-found', reason: `no study folder under ${source.dir} holds it` });
        continue;
      }
      if (heldOut(row.studyInstanceUID, found)) continue;
      const task: StudyTask = { kind: 'folder-study', n: tasks.length, dir: found.folder, label: row.label, studyInstanceUID: row.studyInstanceUID };
      if (row.centreMm) task.centreMm = row.centreMm;
      tasks.push(task);
    }
  } else {
    for (const [uid, found] of byUid) {
      if (heldOut(uid, found)) continue;
      tasks.push({ kind: 'folder-study', n: tasks.length, dir: found.folder, studyInstanceUID: uid });
    }
  }
  if (byUid.size === 0) throw new DatasetBuildError(`no study folders under ${source.dir}${source.useGroundTruth ? ` with ${GROUND_TRUTH_FILE}` : ''}`);
  return { tasks, skipped, description: `folder ${path.resolve(source.dir)}${source.useGroundTruth ? ' (with ground truth)' : ''}` };
}

function prepareOutDir(outDir: string): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory()) throw new DatasetBuildError(`${outDir} exists and is not a folder`);
    if (readdirSync(outDir).length > 0) throw new DatasetBuildError(`${outDir} is not empty: choose a new folder for the dataset`);
  }
  mkdirSync(outDir, { recursive: true });
}

function writeManifest(outDir: string, manifest: DatasetManifest): string {
  const file = path.join(outDir, 'manifest.json');
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 1) + '\n');
  renameSync(tmp, file);
  return file;
}

export async function buildDataset(options: BuildDatasetOptions): Promise<BuildDatasetResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const crop = options.crop ?? cloneCropSpec();
  const localizer = options.localizer ?? cloneLocalizerSpec();
  const source = options.source;
  const plan: Plan =
    source.kind === 'synthetic-seeds'
      ? planSeeds(source)
      : source.kind === 'folder'
        ? planFolder(source)
        : { tasks: [], skipped: [], description: source.description };
  prepareOutDir(options.outDir);
  const settings: WorkerSettings = {
    outDir: path.resolve(options.outDir),
    crop,
    localizer,
    roi: options.roi ?? cloneRoiSpec(),
    useGroundTruth: source.kind === 'folder' ? source.useGroundTruth : true,
  };
  if (source.kind === 'synthetic-seeds') settings.synthetic = { columns: source.columns, slices: source.slices, ...(source.profile !== undefined ? { profile: source.profile } : {}) };
  if (options.models) settings.models = options.models;

  const items: DatasetItem[] = [];
  const skipped = [...plan.skipped];
  const total = source.kind === 'studies' ? source.labels.length : plan.tasks.length;
  const bar: ProgressBar = options.progress === false ? { tick: () => undefined, done: () => undefined } : createProgressBar({ total, label: 'dataset' });

  if (source.kind === 'studies') {
    let n = 0;
    for (const row of source.labels) {
      try {
        const volumes = await source.load(row.studyInstanceUID);
        items.push(await itemWithoutTruth(n++, volumes, row.label, row.centreMm, settings));
        bar.tick();
      } catch (err) {
        const e = err as { name?: string; message?: string; code?: unknown; retryable?: unknown };
        skipped.push({ id: row.studyInstanceUID, code: typeof e.code === 'string' ? e.code : (e.name ?? 'error'), reason: e.message ?? String(err) });
        logger.warn('study skipped', { studyInstanceUID: row.studyInstanceUID, code: e.code, reason: e.message });
        bar.tick(1, true);
      }
    }
  } else {
    const ids = plan.tasks.map((t) => (t.kind === 'folder-study' ? (t.studyInstanceUID ?? t.dir) : `seed ${t.seed}`));
    // Studies without a known centre are localised by the node's localiser inside the worker;
    // onnxruntime-node is not safe in several worker threads at once, so those builds use one.
    const needsLocaliser = source.kind === 'folder' && !source.useGroundTruth && plan.tasks.some((t) => t.kind === 'folder-study' && !t.centreMm);
    const size = needsLocaliser ? 1 : (options.workers ?? os.cpus().length);
    await runInWorkers<StudyTask, DatasetItem>({ modulePath: path.join(__dirname, 'datasetWorker'), size, data: settings }, plan.tasks, (outcome) => {
      if (outcome.result) {
        items.push(outcome.result);
        bar.tick();
      } else {
        const error = outcome.error ?? { name: 'Error', message: 'unknown failure' };
        skipped.push({ id: ids[outcome.index], code: error.code ?? error.name, reason: error.message });
        logger.warn('study skipped', { study: ids[outcome.index], code: error.code, reason: error.message });
        bar.tick(1, true);
      }
    });
  }
  bar.done();
  // Manifest order = task order, whatever order the workers finished in.
  items.sort((a, b) => a.crops.venous.localeCompare(b.crops.venous));
  const manifest: DatasetManifest = {
    schema: DATASET_SCHEMA,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    source: plan.description,
    crop,
    localizer,
    ...(items.some((item) => item.roi) ? { roi: settings.roi } : {}),
    labelDefinition: options.labelDefinition ?? LABEL_DEFINITION,
    items,
    skipped,
    builtBy: `tsr-node ${PACKAGE_VERSION}`,
  };
  if (items.length === 0) throw new DatasetBuildError(`no study could be used (${skipped.length} skipped; first: ${skipped[0]?.code ?? '-'}: ${skipped[0]?.reason ?? '-'})`);
  const manifestPath = writeManifest(options.outDir, manifest);
  return { manifest, manifestPath, seconds: (Date.now() - started) / 1000 };
}
