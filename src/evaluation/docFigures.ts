/**
 * Figures that write themselves: README.md and docs/model-card.md quote evaluation figures only
 * between markers, and this module writes them there from the evaluation reports committed under
 * docs/evaluation/<report>/evaluation.json (`node scripts/write-doc-figures.js`; a unit test fails
 * when a document and the reports disagree). Pure apart from reading and writing the files.
 *
 * Two markers (HTML comments: invisible in the rendered page):
 *
 *   <!-- figure REPORT PATH [FORMAT] -->0.783<!-- /figure -->
 *       one value: PATH is a dotted path into the report (`auc.fused`,
 *       `profiles.heldout-384.oracleAucAll.fused`: an element of `profiles` by its name), FORMAT
 *       how to write it (FIGURE_FORMATS; f3 when absent).
 *   <!-- figures REPORT[,REPORT...] TABLE -->
 *   | ... |
 *   <!-- /figures -->
 *       a table (FIGURE_TABLES), on the lines between; `profiles` takes the rows of several reports.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../paths';
import { EVALUATION_SCHEMA, type EvaluationReport } from './evaluationReport';
import { f3, goalValue, modelTable, percent, profileSummaryTable } from './evaluationTables';

/** The committed evaluation reports the documents quote. */
export const DOC_REPORTS_DIR = path.join(PROJECT_ROOT, 'docs', 'evaluation');

/** The documents whose figures are written from the reports (relative to the project root). */
export const FIGURE_DOCUMENTS: readonly string[] = ['README.md', 'docs/model-card.md'];

export class DocFigureError extends Error {
  override readonly name = 'DocFigureError';
}

const asNumber = (value: unknown, format: string): number => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DocFigureError(`format ${format} needs a number, got ${JSON.stringify(value)}`);
  return value;
};

const asInterval = (value: unknown, format: string): [number, number] => {
  if (!Array.isArray(value) || value.length !== 2) throw new DocFigureError(`format ${format} needs an interval [low, high], got ${JSON.stringify(value)}`);
  return [asNumber(value[0], format), asNumber(value[1], format)];
};

/** "under 20 mm 45% (of 67), 20-30 mm 91% (of 140), 30 mm and more 100% (of 193)" from localiser.hitRateBySize. */
function sizeBands(value: unknown): string {
  const bands = value as Record<string, { n: number; hitRate: number }>;
  if (bands === null || typeof bands !== 'object') throw new DocFigureError('format sizebands needs localiser.hitRateBySize');
  const name = (band: string): string => band.replace(/^< /, 'under ').replace(/^>= (\d+) mm$/, '$1 mm and more');
  return Object.entries(bands).map(([band, b]) => `${name(band)} ${percent(b.hitRate, 0)} (of ${b.n})`).join(', ');
}

/** How a value is written. */
export const FIGURE_FORMATS: Readonly<Record<string, (value: unknown) => string>> = {
  f1: (v) => asNumber(v, 'f1').toFixed(1),
  f2: (v) => asNumber(v, 'f2').toFixed(2),
  f3: (v) => f3(asNumber(v, 'f3')),
  /** A rate as a percentage. */
  pct0: (v) => percent(asNumber(v, 'pct0'), 0),
  pct1: (v) => percent(asNumber(v, 'pct1'), 1),
  /** A count, with thousands separators (1,600). */
  int: (v) => {
    const n = asNumber(v, 'int');
    if (!Number.isInteger(n)) throw new DocFigureError(`format int needs an integer, got ${n}`);
    return n.toLocaleString('en-US');
  },
  /** An interval: 0.734-0.829. */
  ci: (v) => asInterval(v, 'ci').map(f3).join('-'),
  /** An interval to two decimals: 0.06 to 0.16. */
  ci2: (v) => asInterval(v, 'ci2').map((x) => x.toFixed(2)).join(' to '),
  /** Seconds as minutes, one decimal. */
  minutes: (v) => (asNumber(v, 'minutes') / 60).toFixed(1),
  /** Milliseconds, whole. */
  ms: (v) => asNumber(v, 'ms').toFixed(0),
  sizebands: sizeBands,
  /** A name or version as it stands. */
  text: (v) => {
    if (typeof v !== 'string') throw new DocFigureError(`format text needs a string, got ${JSON.stringify(v)}`);
    return v;
  },
};

/** The goals of issue 4 that an evaluation measures: | goal | value | met |. */
function goalsTable(r: EvaluationReport): string[] {
  return [
    '| goal (issue 4) | value | |',
    '| --- | --- | --- |',
    ...Object.values(r.goals).map((g) => `| ${g.target} | ${goalValue(g.value)} | ${g.met ? 'met' : '**not met**'} |`),
  ];
}

const oneReport =
  (table: (report: EvaluationReport) => string[]) =>
  (reports: EvaluationReport[]): string[] => {
    if (reports.length !== 1) throw new DocFigureError('this table is written from one report');
    return table(reports[0]);
  };

/** The tables a `figures` marker can name; REPORT may list several reports (a,b) for `profiles`. */
export const FIGURE_TABLES: Readonly<Record<string, (reports: EvaluationReport[]) => string[]>> = {
  /** AUC with CI, oracle, at the true centre, ECE, sensitivity / specificity per model (the top-level cohort). */
  models: oneReport(modelTable),
  /** One row per centre profile, of every report listed, in order. */
  profiles: (reports) => profileSummaryTable({ profiles: reports.flatMap((r) => r.profiles) }),
  goals: oneReport(goalsTable),
};

/** The value at a dotted path; a segment picks an element of `profiles` by its profile name. */
export function figureAt(report: EvaluationReport, dottedPath: string): unknown {
  let value: unknown = report;
  for (const segment of dottedPath.split('.')) {
    if (Array.isArray(value)) value = (value as Array<{ profile?: string }>).find((item) => item.profile === segment);
    else if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, segment)) value = (value as Record<string, unknown>)[segment];
    else value = undefined;
    if (value === undefined) throw new DocFigureError(`the report has nothing at ${dottedPath} (no ${segment})`);
  }
  return value;
}

function reportNamed(reports: Readonly<Record<string, EvaluationReport>>, name: string): EvaluationReport {
  const report = reports[name];
  if (!report) throw new DocFigureError(`no evaluation report "${name}" (known: ${Object.keys(reports).join(', ') || 'none'})`);
  return report;
}

const INLINE = /<!-- figure (\S+) (\S+)(?: (\S+))? -->([\s\S]*?)<!-- \/figure -->/g;
const TABLE = /<!-- figures (\S+) (\S+) -->\n([\s\S]*?)<!-- \/figures -->/g;

/** The document with every marker's content written from the reports. */
export function writeFigures(text: string, reports: Readonly<Record<string, EvaluationReport>>): string {
  const withValues = text.replace(INLINE, (_match, name: string, dottedPath: string, formatName: string | undefined) => {
    const format = FIGURE_FORMATS[formatName ?? 'f3'];
    if (!format) throw new DocFigureError(`unknown figure format "${formatName}" (known: ${Object.keys(FIGURE_FORMATS).join(', ')})`);
    let value: string;
    try {
      value = format(figureAt(reportNamed(reports, name), dottedPath));
    } catch (err) {
      throw new DocFigureError(`figure ${name} ${dottedPath}: ${(err as Error).message}`);
    }
    return `<!-- figure ${name} ${dottedPath}${formatName ? ` ${formatName}` : ''} -->${value}<!-- /figure -->`;
  });
  return withValues.replace(TABLE, (_match, name: string, tableName: string) => {
    const table = FIGURE_TABLES[tableName];
    if (!table) throw new DocFigureError(`unknown figures table "${tableName}" (known: ${Object.keys(FIGURE_TABLES).join(', ')})`);
    let lines: string[];
    try {
      lines = table(name.split(',').map((one) => reportNamed(reports, one)));
    } catch (err) {
      throw new DocFigureError(`figures ${name} ${tableName}: ${(err as Error).message}`);
    }
    return `<!-- figures ${name} ${tableName} -->\n${lines.join('\n')}\n<!-- /figures -->`;
  });
}

/** How many markers a document holds. */
export function countFigureMarkers(text: string): number {
  return [...text.matchAll(INLINE)].length + [...text.matchAll(TABLE)].length;
}

/** docs/evaluation/<name>/evaluation.json, by name. */
export function loadDocReports(dir: string = DOC_REPORTS_DIR): Record<string, EvaluationReport> {
  const reports: Record<string, EvaluationReport> = {};
  if (!existsSync(dir)) return reports;
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'evaluation.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as { schema?: unknown };
    if (report.schema !== EVALUATION_SCHEMA) throw new DocFigureError(`${file}: schema ${String(report.schema)}, expected ${EVALUATION_SCHEMA}`);
    reports[name] = report as EvaluationReport;
  }
  return reports;
}

/** Writes the figures into each document; returns the documents that changed. */
export function writeDocumentFigures(root: string = PROJECT_ROOT, reports: Record<string, EvaluationReport> = loadDocReports()): string[] {
  const changed: string[] = [];
  for (const document of FIGURE_DOCUMENTS) {
    const file = path.join(root, document);
    const before = readFileSync(file, 'utf8');
    const after = writeFigures(before, reports);
    if (after !== before) {
      writeFileSync(file, after);
      changed.push(document);
    }
  }
  return changed;
}
