/**
 * `tsr-node demo`: a local Orthanc, the node and a synthetic study, end to end (src/node/demo.ts).
 * The README's main command: `npm ci && npm run demo`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../paths';
import { runDemo } from '../../node/demo';
import { choiceOption, integerOption, parseCommandArgs } from '../arguments';
import type { Command } from '../command';

const USAGE = `Usage: tsr-node demo [options]

Starts a private Orthanc (temporary storage, random password) and the node, generates a synthetic
dual-phase pancreatic CT study with a known tumour-stroma ratio, sends it to Orthanc with STOW-RS,
waits until the node has stored its SR and overlay SC there, and prints the prediction beside the
ground truth and the link to the study in the OHIF viewer. Research use only.

Options:
  --keep            leave Orthanc and the node running (to open the viewer) until Ctrl-C
  --seed N          synthetic study seed (default 7)
  --label low|high  force the study's ground-truth label
  --columns N       image size (default 512)
  --slices N        slices per phase (default 100)
  --models DIR      models folder (default models/ of this project)
  --no-viewer       do not serve the OHIF viewer
  --stable-age S    Orthanc's StableAge in seconds (default 2)
  --timeout S       longest wait for the results (default 900)

Ctrl-C stops everything the demo started.`;

export const command: Command = {
  summary: 'local Orthanc + node + synthetic study, end to end',
  usage: USAGE,
  async run(argv) {
    const { values } = parseCommandArgs({
      args: argv,
      options: {
        keep: { type: 'boolean', default: false },
        seed: { type: 'string' },
        label: { type: 'string' },
        columns: { type: 'string' },
        slices: { type: 'string' },
        models: { type: 'string' },
        'no-viewer': { type: 'boolean', default: false },
        'stable-age': { type: 'string' },
        timeout: { type: 'string' },
      },
    });
    const label = choiceOption('label', values.label, ['low', 'high'] as const);
    const seed = integerOption('seed', values.seed, 0, 7);
    const columns = integerOption('columns', values.columns, 32, 512);
    const slices = integerOption('slices', values.slices, 8, 100);
    const stableAgeSeconds = integerOption('stable-age', values['stable-age'], 1, 2);
    const timeoutSeconds = integerOption('timeout', values.timeout, 1, 900);

    // Orthanc from Debian: installed as root, or the exact command to run.
    const deps = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'ensure-system-deps.js'), '--demo'], { stdio: 'inherit' });
    if (deps.status !== 0) return 1;

    const controller = new AbortController();
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      if (signals > 1) process.exit(130); // the exit hook still kills Orthanc
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await runDemo({
        seed,
        columns,
        slices,
        keep: values.keep,
        ...(values.models ? { modelsDir: path.resolve(values.models) } : {}),
        ...(label ? { label } : {}),
        viewer: !values['no-viewer'],
        stableAgeSeconds,
        timeoutMs: timeoutSeconds * 1000,
        signal: controller.signal,
        print: (line) => console.log(line),
      });
      if (result === 'interrupted') {
        console.log('Stopped.');
        return 130;
      }
      if (controller.signal.aborted) console.log('Stopped.');
      return result.resultsInOrthanc ? 0 : 1;
    } catch (err) {
      const e = err as Error;
      console.error(`tsr-node demo: ${e.name === 'ConfigError' || e.name === 'PermanentError' ? '' : `${e.name}: `}${e.message}`);
      return 1;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
