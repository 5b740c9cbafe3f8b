/**
 * Synthetic generator speed: one 2 x 100-slice 512 x 512 study in memory (the goal: well
 * under 5 s on the 2-core machine), the same with every extra series, and a 500-study oracle
 * report. Wall time and this process's CPU time are both reported: on a shared machine the wall
 * time also measures the neighbours.
 */
import type { BenchContext, BenchModule, Figure } from './benchModule';
import { median } from './benchModule';
import { cohortStudySeed, generateStudy, studyBiology } from '../src/synthetic';
import { rocAuc } from '../src/statistics/roc';
import { indexToPatient, patientToIndex, type Vec3 } from '../src/study/geometry';
import { VESSEL_FREE_CORE } from '../src/synthetic/anatomy';
import { oracleFromTpc, oracleScores } from '../src/synthetic/oracle';
import { tumourLevel } from '../src/synthetic/tumourShape';
import { decodeSeries, type DecodedSeries } from '../test/unit/synthetic/readSyntheticSeries';
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
  figures.push(...imageEvidence(context, 80));
  return Promise.resolve(figures);
}

/**
 * Is the evidence in the pixels? For each study, the tumour core (the 3 slices nearest its centre,
 * as a 2.5D model sees it) and the parenchyma are measured in the written images, the measured
 * TPCs go through the oracle formula, and the AUC of those scores is compared with the oracle AUC
 * on the same studies. A small gap means the rendering (noise, texture, partial volume) keeps the
 * evidence: a model that finds the tumour can approach the oracle.
 */
function imageEvidence(context: BenchContext, count: number): Figure[] {
  const labels: boolean[] = [];
  const fromImages: { fused: number[]; arterial: number[]; venous: number[] } = { fused: [], arterial: [], venous: [] };
  const truth: { fused: number[]; arterial: number[]; venous: number[] } = { fused: [], arterial: [], venous: [] };
  for (let i = 0; i < count; i++) {
    const study = generateStudy({ seed: 700000 + i, columns: 256, slices: 60, extras: 'none' });
    const t = study.groundTruth;
    const tpc = (['arterial', 'venous'] as const).map((phase) => {
      const series = decodeSeries(study.files.filter((f) => f.seriesInstanceUID === t.phases[phase].seriesInstanceUID));
      const centre = t.phases[phase].tumourCentre;
      const k0 = Math.round(patientToIndex(series.geometry, centre)[2]);
      const core = VESSEL_FREE_CORE * 0.95 * Math.min(...t.tumour.shape.radiiMm);
      const tumour = meanWhere(series, [k0 - 1, k0 + 1], (p) => Math.hypot(p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]) <= core && tumourLevel(t.tumour.shape, centre, p) <= 0.9);
      const landmark = t.landmarks.find((l) => l.structure === 'pancreas');
      if (!landmark) throw new Error(`study ${t.seed}: no pancreas landmark`);
      const at = landmark[phase];
      const r = Math.max(1, landmark.clearanceMm - 2);
      const kl = Math.round(patientToIndex(series.geometry, at)[2]);
      const reach = Math.ceil(r / series.geometry.spacing[2]);
      const parenchyma = meanWhere(series, [kl - reach, kl + reach], (p) => Math.hypot(p[0] - at[0], p[1] - at[1], p[2] - at[2]) <= r);
      return parenchyma - tumour;
    });
    const scores = oracleFromTpc(tpc[0], tpc[1]);
    labels.push(t.tumour.label === 'high');
    for (const k of ['fused', 'arterial', 'venous'] as const) {
      fromImages[k].push(scores[k]);
      truth[k].push(t.tumour.oracle[k]);
    }
  }
  const figures: Figure[] = [];
  for (const k of ['fused', 'arterial', 'venous'] as const) {
    const measured = rocAuc(fromImages[k], labels);
    const oracleAuc = rocAuc(truth[k], labels);
    context.log(`${k}: AUC from measured pixels ${measured.toFixed(3)}, oracle ${oracleAuc.toFixed(3)} (${count} studies, 256 x 256)`);
    figures.push({
      id: `synthetic_image_evidence_${k}_auc`,
      name: `${k} AUC from TPC measured in the pixels (${count} studies)`,
      value: measured,
      unit: '',
      baseline: { name: 'oracle on the same studies', value: oracleAuc },
    });
  }
  return figures;
}

function meanWhere(series: DecodedSeries, slices: [number, number], inside: (p: Vec3) => boolean): number {
  const [nx, ny, nz] = series.geometry.dims;
  let sum = 0;
  let n = 0;
  for (let k = Math.max(0, slices[0]); k <= Math.min(nz - 1, slices[1]); k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (inside(indexToPatient(series.geometry, i, j, k))) {
          sum += series.hu[k * nx * ny + j * nx + i];
          n++;
        }
      }
    }
  }
  return n > 0 ? sum / n : NaN;
}

export const syntheticBench: BenchModule = { name: 'synthetic', run: benchSynthetic };
