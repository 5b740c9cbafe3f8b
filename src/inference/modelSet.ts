/**
 * The model set: the models one node runs, as an ordered list of stages, each with its role,
 * its manifest name in the configuration (`models.<role>`) and its loader. Everything that names
 * the node's models reads it: the result identity (UIDs), the SR's algorithm identification, the
 * job outcome, the keys of results prepared ahead, readiness, the status page and the logs.
 *
 * Adding a stage (e.g. a pancreas segmentation before the tumour localiser): its loaded type in
 * `ModelSet`, its role in `ModelRole` (result.ts), one entry in `MODEL_STAGES`, its manifest name
 * in the configuration schema; the code that uses it reads `models.<role>`.
 */
import { ConfigError } from '../errors';
import { loadClassifier, loadLocalizer, releaseModels, type LoadedClassifier, type LoadedLocalizer, type LoadedModel, type ModelRuntimeOptions } from './models';
import type { ModelRole, StageIdentity } from './result';

/** The loaded models, by role. A type alias (not an interface), so that it is a plain record of models. */
export type ModelSet = {
  localizer: LoadedLocalizer;
  classifier: LoadedClassifier;
};

/** Manifest names by role (config `models`), the folder that holds them, and the runtime settings. */
export type ModelsConfig = ModelRuntimeOptions & { dir: string } & Record<ModelRole, string>;

interface ModelStage<Role extends ModelRole> {
  role: Role;
  load(dir: string, name: string, options: ModelRuntimeOptions): Promise<ModelSet[Role]>;
}

/** The stages in the order the pipeline runs them (and loads them). */
export const MODEL_STAGES: ReadonlyArray<ModelStage<ModelRole>> = [
  { role: 'localizer', load: loadLocalizer },
  { role: 'classifier', load: loadClassifier },
];

/** What the node asks of the set as a whole, beyond each model's own contract. */
function checkModelSet(models: ModelSet): void {
  const { classifier } = models;
  if (classifier.phases.length !== 2 || !classifier.phases.includes('arterial') || !classifier.phases.includes('venous')) {
    throw new ConfigError(`model ${classifier.onnxPath}: the node's classifier must take both phases, this one takes [${classifier.phases.join(', ')}]`);
  }
}

/**
 * Loads every stage of the set from `config.models`, once, in stage order; a ConfigError when any
 * model, or the set as a whole, does not match. Nothing stays loaded after a refusal.
 */
export async function loadModelSet(config: ModelsConfig): Promise<ModelSet> {
  const loaded: Partial<Record<ModelRole, LoadedModel>> = {};
  try {
    for (const stage of MODEL_STAGES) loaded[stage.role] = await stage.load(config.dir, config[stage.role], config);
    const models = loaded as ModelSet;
    checkModelSet(models);
    return models;
  } catch (err) {
    await releaseModels(loaded);
    throw err;
  }
}

/** Role, name, version and sha256 of each stage, in stage order. */
export function modelSetIdentities(models: { [Role in ModelRole]: Pick<ModelSet[Role], 'identity'> }): StageIdentity[] {
  return MODEL_STAGES.map((stage) => ({ role: stage.role, ...models[stage.role].identity }));
}

/** Time spent loading the whole set, in ms. */
export function modelSetLoadMs(models: ModelSet): number {
  return MODEL_STAGES.reduce((sum, stage) => sum + models[stage.role].loadMs, 0);
}
