/**
 * A progress bar on stderr for long builds (dataset, evaluation). On a terminal it redraws one
 * line; otherwise (a log file, CI) it prints a line every 5% or 30 s, so logs stay short.
 */
export interface ProgressBar {
  /** Marks `n` more units done (default 1); `failed` counts them as skipped. */
  tick(n?: number, failed?: boolean): void;
  /** Final line with the totals. */
  done(): void;
}

export interface ProgressOptions {
  total: number;
  label: string;
  stream?: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean };
  now?: () => number;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

export function createProgressBar(options: ProgressOptions): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => Date.now());
  const tty = Boolean(stream.isTTY);
  const started = now();
  let doneCount = 0;
  let failedCount = 0;
  let lastPrinted = 0;
  let lastPrintTime = started;

  const line = (): string => {
    const elapsed = (now() - started) / 1000;
    const rate = elapsed > 0 ? doneCount / elapsed : 0;
    const eta = rate > 0 ? (options.total - doneCount) / rate : Number.POSITIVE_INFINITY;
    const fraction = options.total > 0 ? doneCount / options.total : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const failed = failedCount > 0 ? `, ${failedCount} skipped` : '';
    return `${options.label} [${bar}] ${doneCount}/${options.total} (${(fraction * 100).toFixed(0)}%${failed}) ${rate.toFixed(2)}/s elapsed ${formatDuration(elapsed)} eta ${formatDuration(eta)}`;
  };

  const print = (force: boolean): void => {
    if (tty) {
      stream.write(`\r${line()}\x1b[K`);
      return;
    }
    const step = Math.max(1, Math.ceil(options.total / 20));
    if (force || doneCount - lastPrinted >= step || now() - lastPrintTime >= 30_000) {
      stream.write(`${line()}\n`);
      lastPrinted = doneCount;
      lastPrintTime = now();
    }
  };

  return {
    tick(n = 1, failed = false) {
      doneCount += n;
      if (failed) failedCount += n;
      print(false);
    },
    done() {
      if (tty || lastPrinted !== doneCount) print(true);
      if (tty) stream.write('\n');
    },
  };
}
