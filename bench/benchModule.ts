/** The shape of one benchmark module (bench/<name>.ts), run by bench/run.ts. */

export interface Figure {
  /** Stable machine name, snake_case, e.g. `wadors_retrieve_parse_ms`; the key in `--json` output. */
  id: string;
  /** What was measured, for the table. */
  name: string;
  value: number;
  unit: string;
  /** The comparison measured in the same run (same unit); the ratio is value / baseline. */
  baseline?: { name: string; value: number };
  /** The goal in words, e.g. "<= 4x curl". */
  goal?: string;
  /** Raw samples behind `value` (e.g. each repetition), for the JSON output. */
  samples?: number[];
}

export interface BenchContext {
  /** Progress lines on stderr (the table goes to stdout). */
  log(message: string): void;
}

export interface BenchModule {
  name: string;
  run(context: BenchContext): Promise<Figure[]>;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
