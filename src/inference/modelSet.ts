/**
 * The model set: the models one node runs, as an ordered list of stages, each with its role,
 * its manifest name in the configuration (`models.<role>`) and its loader. Everything that names
 * the node's models reads it: the result identity (UIDs), the SR's algorithm identification, the
 * job outcome, the keys of results prepared ahead, readiness, the status page and the logs.
 *
 * Adding a stage (e.g. a pancreas segmentation before the tumour localiser): its loaded type in
 * `ModelSet`, its role in `ModelRole` (result.ts), one entry in `MODEL_STAGES`, its manifest name
 * in the configuration schema; the code that uses it reads `models.<role>`.
 *
 * A stage may be conditional (`neededBy`): the pancreas model is loaded exactly when the
 * localiser is the second stage of a cascade (its manifest has `preprocessing.localizer.roi`),
 * and it must then be the very model that localiser names (name, version and sha256).
 */
import { ConfigError } from '../errors';
import {
  loadClassifier,
  loadLocalizer,
  loadPancreas,
  releaseModels,
  type LoadedClassifier,
  type LoadedLocalizer,
  type LoadedModel,
  type LoadedPancreas,
  type ModelRuntimeOptions,
} from './models';
import type { ModelIdentity, ModelRole, StageIdentity } from './result';

/** The loaded models, by role. A type alias (not an interface), so that it is a plain record of models. */
export type ModelSet = {
  /** Present exactly when the localiser is a cascade's second stage. */
  pancreas?: LoadedPancreas;
  localizer: LoadedLocalizer;
  classifier: LoadedClassifier;
};

type RequiredRole = Exclude<ModelRole, 'pancreas'>;

/**
 * Manifest names by role (config `models`), the folder that holds them, and the runtime settings.
 * `pancreas` is read only when the localiser needs a pancreas model.
 */
export type ModelsConfig = ModelRuntimeOptions & { dir: string } & Record<RequiredRole, string> & { pancreas?: string };

interface ModelStage<Role extends ModelRole> {
  role: Role;
  load(dir: string, name: string, options: ModelRuntimeOptions): Promise<NonNullable<ModelSet[Role]>>;
  /** A conditional stage: whether the stages loaded before it need it (loaded after the unconditional ones). */
  neededBy?: (loaded: Partial<ModelSet>) => boolean;
}

/** The stages in the order the pipeline runs them (and loads them, conditional stages last). */
export const MODEL_STAGES: ReadonlyArray<ModelStage<ModelRole>> = [
  { role: 'pancreas', load: loadPancreas, neededBy: (loaded) => loaded.localizer?.localizer.roi !== undefined },
  { role: 'localizer', load: loadLocalizer },
  { role: 'classifier', load: loadClassifier },
];

function identityText(m: ModelIdentity): string {
  return `${m.name} ${m.version} (sha256 ${m.sha256})`;
}

/** The cascade's pair check: the pancreas model must be the one the localiser was trained behind. */
export function checkCascadePair(localizer: Pick<LoadedLocalizer, 'localizer' | 'onnxPath'>, pancreas: Pick<LoadedPancreas, 'identity' | 'onnxPath'> | undefined): void {
  const roi = localizer.localizer.roi;
  if (!roi) return;
  const wanted = roi.pancreasModel;
  if (!pancreas) {
    throw new ConfigError(`model ${localizer.onnxPath}: this localiser is the second stage of a cascade and needs the pancreas model ${identityText(wanted)} (preprocessing.localizer.roi.pancreasModel), but none is configured (models.pancreas)`);
  }
  const got = pancreas.identity;
  const differs = (['name', 'version', 'sha256'] as const).filter((key) => got[key] !== wanted[key]);
  if (differs.length > 0) {
    throw new ConfigError(
      `model ${localizer.onnxPath}: this localiser was trained behind the pancreas model ${identityText(wanted)}, but models.pancreas is ${identityText(got)} (${pancreas.onnxPath}); ` +
        `they differ in ${differs.join(', ')}: install the pair together`,
    );
  }
}

/** What the node asks of the set as a whole, beyond each model's own contract. */
function checkModelSet(models: ModelSet): void {
  const { classifier } = models;
  if (classifier.phases.length !== 2 || !classifier.phases.includes('arterial') || !classifier.phases.includes('venous')) {
    throw new ConfigError(`model ${classifier.onnxPath}: the node's classifier must take both phases, this one takes [${classifier.phases.join(', ')}]`);
  }
  checkCascadePair(models.localizer, models.pancreas);
}

/** The name to load a conditional stage by: its configured name, or a clear refusal. */
function conditionalStageName(config: ModelsConfig, role: ModelRole, loaded: Partial<ModelSet>): string | undefined {
  const name = config[role];
  if (name !== undefined) return name;
  if (role === 'pancreas' && loaded.localizer) checkCascadePair(loaded.localizer, undefined);
  return undefined;
}

/**
 * Loads every stage of the set from `config.models`, once (unconditional stages in stage order,
 * then the conditional ones the set needs); a ConfigError when any model, or the set as a whole,
 * does not match. Nothing stays loaded after a refusal.
 */
export async function loadModelSet(config: ModelsConfig): Promise<ModelSet> {
  const loaded: Partial<Record<ModelRole, LoadedModel>> = {};
  try {
    for (const stage of MODEL_STAGES.filter((s) => !s.neededBy)) loaded[stage.role] = await stage.load(config.dir, config[stage.role] as string, config);
    for (const stage of MODEL_STAGES.filter((s) => s.neededBy)) {
      if (!stage.neededBy!(loaded as Partial<ModelSet>)) continue;
      const name = conditionalStageName(config, stage.role, loaded as Partial<ModelSet>);
      if (name !== undefined) loaded[stage.role] = await loadNeededStage(stage, config, name);
    }
    const models = loaded as ModelSet;
    checkModelSet(models);
    return models;
  } catch (err) {
    await releaseModels(loaded);
    throw err;
  }
}

/** Loads a stage another stage needs; a missing manifest says who needs it. */
async function loadNeededStage(stage: ModelStage<ModelRole>, config: ModelsConfig, name: string): Promise<LoadedModel> {
  try {
    return await stage.load(config.dir, name, config);
  } catch (err) {
    if (err instanceof ConfigError && err.message.includes('manifest not found')) {
      throw new ConfigError(`${err.message}; the localiser is the second stage of a cascade and needs its ${stage.role} model (models.${stage.role} = "${name}")`);
    }
    throw err;
  }
}

/**
 * The localiser alone, with its pancreas model when it is a cascade's second stage (pair checked),
 * for callers that localise without classifying (the dataset builder's centres): pass the result
 * to localiseTumour. Nothing stays loaded after a refusal.
 */
export async function loadLocalisation(config: ModelRuntimeOptions & { dir: string; localizer: string; pancreas?: string }): Promise<Pick<ModelSet, 'localizer' | 'pancreas'>> {
  const localizer = await loadLocalizer(config.dir, config.localizer, config);
  if (!localizer.localizer.roi) return { localizer };
  let pancreas: LoadedPancreas | undefined;
  try {
    if (config.pancreas === undefined) checkCascadePair(localizer, undefined);
    const stage = MODEL_STAGES.find((s) => s.role === 'pancreas')!;
    pancreas = (await loadNeededStage(stage, { ...config, classifier: '' }, config.pancreas!)) as LoadedPancreas;
    checkCascadePair(localizer, pancreas);
    return { localizer, pancreas };
  } catch (err) {
    await releaseModels({ localizer, pancreas });
    throw err;
  }
}

/** Role, name, version and sha256 of each stage the set holds, in stage order. */
export function modelSetIdentities(models: { [Role in ModelRole]?: { identity: ModelIdentity } }): StageIdentity[] {
  return MODEL_STAGES.flatMap((stage) => {
    const model = models[stage.role];
    return model ? [{ role: stage.role, ...model.identity }] : [];
  });
}

/** Time spent loading the whole set, in ms. */
export function modelSetLoadMs(models: ModelSet): number {
  return MODEL_STAGES.reduce((sum, stage) => sum + (models[stage.role]?.loadMs ?? 0), 0);
}
