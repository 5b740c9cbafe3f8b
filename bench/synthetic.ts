/**
 * Synthetic generator speed: one 2 x 100-slice 512 x 512 study in memory (the goal: well
 * under 5 s on the 2-core machine), the same with every extra series, and a 500-study oracle
 * report. Wall time and this process's CPU time are both reported: on a shared machine the wall
 * time also measures the neighbours.
 */
import type { BenchContext, BenchModule, Figure } from './benchModule';
import { median } from './benchModule';
import { cohortStudySeed, generateStudy, studyBiology } from '../src/synthetic';
import { oracleScores } from '../src/synthetic/oracle';
import { oracleReport } from '../src/synthetic/oracleReport';

function timeIt(run: () => void): { wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  run();
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

export async function benchSynthetic(context: BenchContext): Promise<Figure[]> {
  // Warm-up: JIT and the noise/texture banks for 512 x 512 (built once per process).
  generateStudy({ seed: 1, columns: 512, slices: 20, extras: 'none' });
  const figures: Figure[] = [];
  const repeats = 3;
  for (const extras of ['none', 'all'] as const) {
    const runs = Array.from({ length: repeats }, (_, i) => {
      let files = 0;
      let bytes = 0;
      const t = timeIt(() => {
        const study = generateStudy({ seed: 100 + i, columns: 512, slices: 100, extras });
        files = study.files.length;
        bytes = study.files.reduce((n, f) => n + f.bytes.length, 0);
      });
      context.log(`512 x 512 x 100, extras ${extras}: ${files} files, ${(bytes / 1e6).toFixed(0)} MB, ${t.wallMs.toFixed(0)} ms wall, ${t.cpuMs.toFixed(0)} ms CPU`);
      return t;
    });
    const label = extras === 'none' ? 'arterial + venous' : 'with every extra series';
    figures.push({
      id: `synthetic_study_512x100_${extras}_wall_ms`,
      name: `one study, 2 x 100 slices 512 x 512, ${label} (wall)`,
      value: median(runs.map((r) => r.wallMs)),
      unit: 'ms',
      goal: extras === 'none' ? 'well under 5000 ms' : undefined,
      samples: runs.map((r) => r.wallMs),
    });
    figures.push({
      id: `synthetic_study_512x100_${extras}_cpu_ms`,
      name: `one study, 2 x 100 slices 512 x 512, ${label} (CPU of this process)`,
      value: median(runs.map((r) => r.cpuMs)),
      unit: 'ms',
      samples: runs.map((r) => r.cpuMs),
    });
  }
  const oracle = timeIt(() => {
    const cases = Array.from({ length: 500 }, (_, i) => {
      const b = studyBiology(cohortStudySeed(1, i));
      return { label: b.label, oracle: oracleScores(b.enhancement) };
    });
    const r = oracleReport(cases);
    context.log(`oracle AUC over 500: fused ${r.auc.fused.toFixed(3)}, arterial ${r.auc.arterial.toFixed(3)}, venous ${r.auc.venous.toFixed(3)}`);
  });
  figures.push({ id: 'synthetic_oracle_report_500_ms', name: 'oracle report of a 500-study cohort (no images)', value: oracle.wallMs, unit: 'ms' });
  return Promise.resolve(figures);
}

export const syntheticBench: BenchModule = { name: 'synthetic', run: benchSynthetic };
