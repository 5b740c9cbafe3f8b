/**
 * `tsr-node evaluate --seed S --count N --out DIR`: the shipped models on a held-out synthetic
 * cohort, through the node's own path (src/evaluation/runEvaluation.ts).
 */
import { loadConfig } from '../../config';
import { checkEvaluationSeeds, EVALUATION_SEED_START } from '../../common/seedRanges';
import { runEvaluation, type RunEvaluationOptions } from '../../evaluation/runEvaluation';
import { createLogger } from '../../logging/logger';
import { integerOption, parseCommandArgs } from '../arguments';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node evaluate --seed S --count N --out DIR [options]

Generates N held-out synthetic studies (seeds S .. S+N-1; S must be ${EVALUATION_SEED_START} or more:
lower seeds are for training) and runs each through the node's own path: Part-10 bytes, volume
assembly, localiser, crops, the fused classifier and the arterial-only and venous-only baselines.
Writes DIR/evaluation.json (AUCs with bootstrap 95% CIs, oracle AUCs, ECE, sensitivity,
specificity, localiser hit rate, the issue's goals), DIR/cases.json, DIR/evaluation.md (the
model card's table) and DIR/roc.png.

Options:
  --columns N, --slices N   image size (default 512 x 512, 100 slices per phase)
  --workers N               worker threads (default: number of CPUs)
  --bootstrap N             bootstrap replicates (default 2000)
  --models-dir DIR          models folder (default: the configuration's models.dir)
  --arterial NAME           arterial-only baseline manifest name (default tsr-clip-arterial)
  --venous NAME             venous-only baseline manifest name (default tsr-clip-venous)
  --config FILE             node configuration (models.dir, models.classifier, models.localizer)
  --no-progress             no progress bar on stderr
`;

export const command: Command = {
  summary: 'evaluate the shipped models on a held-out synthetic cohort (evaluate --seed S --count N --out DIR)',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs({
      args: argv,
      options: {
        seed: { type: 'string' },
        count: { type: 'string' },
        out: { type: 'string' },
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
        models: { dir: values['models-dir'] ?? config.models.dir, fused: config.models.classifier, localizer: config.models.localizer, arterial: values.arterial, venous: values.venous },
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
      const f = (x: number): string => x.toFixed(3);
      console.error(
        `tsr-node evaluate: n = ${report.n} (${report.nAnalysed} analysed); AUC fused ${f(report.auc.fused)}, arterial ${f(report.auc.arterial)}, venous ${f(report.auc.venous)}; ` +
          `oracle fused ${f(report.oracleAuc.fused)}; ECE ${f(report.ece)}; localiser hits ${(100 * report.localiser.hitRate).toFixed(1)}%; ${report.timing.seconds.toFixed(0)} s`,
      );
      console.log(files.json);
      return 0;
    } catch (err) {
      console.error(`tsr-node evaluate: ${(err as Error).name}: ${(err as Error).message}`);
      return 1;
    }
  },
};
