/**
 * `tsr-node` command dispatch. Command names are a contract (scripts and administrators depend
 * on them): serve, demo, analyze, inspect, synth, dataset, evaluate.
 * Modules are loaded lazily so that, e.g., `synth` never loads onnxruntime.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading is the point here */
import { PACKAGE_VERSION } from '../paths';
import { UsageError } from './arguments';
import type { Command } from './command';

const COMMANDS: Record<string, () => Command> = {
  serve: () => (require('./commands/serve') as { command: Command }).command,
  demo: () => (require('./commands/demo') as { command: Command }).command,
  analyze: () => (require('./commands/analyze') as { command: Command }).command,
  inspect: () => (require('./commands/inspect') as { command: Command }).command,
  synth: () => (require('./commands/synth') as { command: Command }).command,
  dataset: () => (require('./commands/dataset') as { command: Command }).command,
  evaluate: () => (require('./commands/evaluate') as { command: Command }).command,
};

function help(): string {
  const lines = ['Usage: tsr-node <command> [options]', '', 'Commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(10)} ${load().summary}`);
  lines.push('', 'Run `tsr-node <command> --help` for the options of one command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    console.log(PACKAGE_VERSION);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`tsr-node: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`tsr-node ${name}: ${err.message}\n\n${command.usage}`);
    return 2;
  }
}
