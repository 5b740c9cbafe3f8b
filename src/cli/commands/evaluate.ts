/**
 * `tsr-node evaluate --seed S --count N --out DIR [--profile NAMES]`: the shipped models on a
 * held-out synthetic cohort per centre profile, through the node's own path
 * (src/evaluation/runEvaluation.ts).
 */
import { loadConfig } from '../../config';
import { checkEvaluationSeeds, EVALUATION_SEED_START } from '../../common/seedRanges';
import type { CohortFigures } from '../../evaluation/cohortFigures';
import type { EvaluationReport } from '../../evaluation/evaluationReport';
import { runEvaluation, type RunEvaluationOptions } from '../../evaluation/runEvaluation';
import { CENTRE_PROFILE_NAMES, DEFAULT_CENTRE_PROFILE, loadCentreProfile } from '../../synthetic';
import { createLogger } from '../../logging/logger';
import { integerOption, parseCommandArgs } from '../arguments';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node evaluate --seed S --count N --out DIR [--profile NAME[,NAME...]] [options]

Generates N held-out synthetic studies (seeds S .. S+N-1; S must be ${EVALUATION_SEED_START} or more:
lower seeds are for training) with each centre profile and runs each through the node's own path:
Part-10 bytes, volume assembly, localiser, crops, the fused classifier and the arterial-only and
venous-only baselines. Writes DIR/evaluation.json (AUCs with bootstrap 95% CIs, oracle AUCs, ECE,
sensitivity, specificity, localiser figures, the issue's goals: for all studies and per
profile), DIR/cases.json, DIR/evaluation.md (a row per profile, then the model card's table per
profile), DIR/roc.png (all studies) and DIR/roc-<profile>.png.

Options:
  --profile NAMES           centre profiles, comma-separated (default ${DEFAULT_CENTRE_PROFILE}); known:
                            ${CENTRE_PROFILE_NAMES.join(', ')}.
                            A training profile is evaluated on the held-out seeds and marked as such.
  --columns N, --slices N   image size (default 512 x 512, 100 slices per phase; a randomised
                            profile draws its own unless these are given)
  --workers N               worker threads (default: number of CPUs)
  --bootstrap N             bootstrap replicates (default 2000)
  --models-dir DIR          models folder (default: the configuration's models.dir)
  --arterial NAME           arterial-only baseline manifest name (default tsr-clip-arterial)
  --venous NAME             venous-only baseline manifest name (default tsr-clip-venous)
  --config FILE             node configuration (models.dir, models.classifier, models.localizer, models.pancreas)
  --no-progress             no progress bar on stderr
`;

/** "a,b" -> ['a', 'b'], each a known profile. */
function parseProfiles(text: string | undefined): string[] {
  if (text === undefined) return [DEFAULT_CENTRE_PROFILE];
  const names = text.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  if (names.length === 0) throw new Error('--profile needs at least one profile name');
  for (const name of names) loadCentreProfile(name);
  if (new Set(names).size !== names.length) throw new Error(`--profile names a profile twice: ${text}`);
  return names;
}

function summary(report: EvaluationReport): string[] {
  const f = (x: number): string => x.toFixed(3);
  const line = (name: string, r: CohortFigures): string =>
    `${name}: n = ${r.n} (${r.nAnalysed} analysed); AUC fused ${f(r.auc.fused)}, arterial ${f(r.auc.arterial)}, venous ${f(r.auc.venous)}; ` +
    `oracle fused ${f(r.oracleAuc.fused)}; ECE ${f(r.ece)}; localiser hits ${(100 * r.localiser.hitRate).toFixed(1)}%, wrong place ${r.localiser.wrongPlace.n}`;
  const lines = report.profiles.map((p) => line(`profile ${p.profile}${p.heldOut ? ' (held out)' : ''}`, p));
  if (report.profiles.length > 1) lines.push(line('all profiles', report));
  lines.push(`${report.timing.seconds.toFixed(0)} s`);
  return lines;
}

export const command: Command = {
  summary: 'evaluate the shipped models on a held-out synthetic cohort per centre profile (evaluate --seed S --count N --out DIR [--profile NAMES])',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs({
      args: argv,
      options: {
        seed: { type: 'string' },
        count: { type: 'string' },
        out: { type: 'string' },
        profile: { type: 'string' },
        columns: { type: 'string' },
        slices: { type: 'string' },
        workers: { type: 'string' },
        bootstrap: { type: 'string' },
        'models-dir': { type: 'string' },
        arterial: { type: 'string', default: 'tsr-clip-arterial' },
        venous: { type: 'string', default: 'tsr-clip-venous' },
        config: { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
      },
    });
    const int = (name: string, text: string | undefined): number | undefined => integerOption(name, text, 0);
    let options: RunEvaluationOptions;
    try {
      const seed = int('seed', values.seed);
      const count = int('count', values.count);
      if (seed === undefined || count === undefined || !values.out) throw new Error('--seed, --count and --out are required');
      checkEvaluationSeeds(seed, count);
      const config = loadConfig(values.config ? { file: values.config } : {});
      options = {
        seed,
        count,
        outDir: values.out,
        profiles: parseProfiles(values.profile),
        models: {
          dir: values['models-dir'] ?? config.models.dir,
          fused: config.models.classifier,
          localizer: config.models.localizer,
          pancreas: config.models.pancreas,
          arterial: values.arterial,
          venous: values.venous,
        },
        progress: !values['no-progress'],
        logger: createLogger({ level: config.logLevel }),
      };
      const columns = int('columns', values.columns);
      const slices = int('slices', values.slices);
      const workers = int('workers', values.workers);
      const bootstrap = int('bootstrap', values.bootstrap);
      if (columns !== undefined) options.columns = columns;
      if (slices !== undefined) options.slices = slices;
      if (workers !== undefined) options.workers = Math.max(1, workers);
      if (bootstrap !== undefined) options.bootstrapReplicates = Math.max(1, bootstrap);
    } catch (err) {
      console.error(`tsr-node evaluate: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    try {
      const { report, files } = await runEvaluation(options);
      for (const line of summary(report)) console.error(`tsr-node evaluate: ${line}`);
      console.log(files.json);
      return 0;
    } catch (err) {
      console.error(`tsr-node evaluate: ${(err as Error).name}: ${(err as Error).message}`);
      return 1;
    }
  },
};
