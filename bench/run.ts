/**
 * `npm run bench`: runs the benchmark modules, prints one table of figure / baseline / ratio,
 * and with `--json FILE` writes every figure with its baseline and their ratio.
 *
 *   npm run bench                         every module
 *   npm run bench -- --only retrieval     some modules (comma-separated names)
 *   npm run bench -- --json bench.json    also write JSON
 *
 * Each baseline is measured in the same run, on the same machine, so ratios compare like with
 * like. To add a module, write bench/<name>.ts exporting a BenchModule and add it to MODULES.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchModule, Figure } from './benchModule';
import { retrievalBench } from './retrieval';
import { e2eBench } from './e2e';
import { inferenceBench } from './inference';
import { syntheticBench } from './synthetic';
import { backlogBench } from './backlog';
import { scaleBench } from './scale';
import { segBuildersBench } from './segBuilders';

const MODULES: BenchModule[] = [
  retrievalBench,
  e2eBench,
  inferenceBench,
  syntheticBench,
  backlogBench,
  scaleBench,
  segBuildersBench,
];

interface Args {
  json?: string;
  only?: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') args.json = argv[++i];
    else if (argv[i] === '--only') args.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(`Usage: npm run bench -- [--only ${MODULES.map((m) => m.name).join(',')}] [--json FILE]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return args;
}

function format(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`.trim();
}

/** value / baseline; null without a baseline or when the baseline is 0 (e.g. a count of errors). */
function ratioOf(figure: Figure): number | null {
  return figure.baseline && figure.baseline.value !== 0 ? figure.value / figure.baseline.value : null;
}

function printTable(rows: Array<{ module: string; figure: Figure }>): void {
  const table = rows.map(({ module, figure }) => [
    `${module}: ${figure.name}`,
    format(figure.value, figure.unit),
    figure.baseline ? `${format(figure.baseline.value, figure.unit)} (${figure.baseline.name})` : '',
    ratioOf(figure) !== null ? `${ratioOf(figure)!.toFixed(2)}x` : '',
    figure.goal ?? '',
  ]);
  const header = ['figure', 'value', 'baseline', 'ratio', 'goal'];
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((r) => r[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd();
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const modules = args.only ? MODULES.filter((m) => args.only?.includes(m.name)) : MODULES;
  if (modules.length === 0) throw new Error(`no module named ${args.only?.join(', ')}; have ${MODULES.map((m) => m.name).join(', ')}`);
  const rows: Array<{ module: string; figure: Figure }> = [];
  for (const module of modules) {
    console.error(`bench: ${module.name} ...`);
    const started = Date.now();
    const figures = await module.run({ log: (message) => console.error(`  ${module.name}: ${message}`) });
    console.error(`bench: ${module.name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const figure of figures) rows.push({ module: module.name, figure });
  }
  printTable(rows);
  if (args.json) {
    const figures = rows.map(({ module, figure }) => ({
      module,
      id: figure.id,
      name: figure.name,
      value: figure.value,
      unit: figure.unit,
      baseline: figure.baseline?.value ?? null,
      baselineName: figure.baseline?.name ?? null,
      ratio: ratioOf(figure),
      goal: figure.goal ?? null,
      samples: figure.samples ?? null,
    }));
    // `values`: every figure by id, flat, for scripts (e.g. e2e_after_stable_ms).
    const values: Record<string, number> = {};
    for (const f of figures) {
      values[f.id] = f.value;
      if (f.baseline !== null && f.ratio !== null) values[`${f.id}_ratio`] = f.ratio;
    }
    const report = {
      generatedAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / 2 ** 20), node: process.version },
      figures,
      values,
    };
    writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
    console.error(`bench: wrote ${args.json}`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
