/**
 * A request's patience with the server: fires `onTimeout` after `ms` without `touch()` (a byte
 * from the server), unless suspended (our own consumer is busy: backpressure, not a dead server).
 */
export class InactivityTimer {
  private timer: NodeJS.Timeout | undefined;
  private suspended = 0;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {
    this.touch();
  }

  touch(): void {
    if (this.suspended !== 0) return;
    // refresh() re-arms the same timer: cheaper than a new one for every chunk of a large body.
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.onTimeout, this.ms);
  }

  suspend(): void {
    this.suspended++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  resume(): void {
    this.suspended--;
    this.touch();
  }

  /** For good: later touch() and resume() do nothing. */
  clear(): void {
    this.suspended = Number.POSITIVE_INFINITY;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
