/**
 * Memory for HU volumes, kept from one study to the next.
 *
 * A 512 x 512 x 100 volume is 105 MB of float32. Fresh memory of that size comes from the
 * operating system untouched, and the first write to each of its pages faults: on the project's
 * 2-core VM, filling two fresh volumes took about twice as long as filling two that had been
 * used before (retrieval of both series 300-350 ms against 140-150 ms). So the node gives a
 * study's volumes back when the study is done, and the next study reuses them.
 *
 * The cost is memory while idle: up to `maxKept` volumes stay allocated after a study (the
 * process's peak is unchanged: it held them during the study), until `idleReleaseMs` without a
 * study has passed.
 */

export interface VolumeBufferPoolOptions {
  /** Volumes kept for reuse (default 2: one study's two phases). */
  maxKept?: number;
  /** Kept memory is let go after this long without a take or a give (default 10 min). */
  idleReleaseMs?: number;
}

export class VolumeBufferPool {
  private kept: ArrayBuffer[] = [];
  private readonly maxKept: number;
  private readonly idleReleaseMs: number;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(options: VolumeBufferPoolOptions = {}) {
    this.maxKept = options.maxKept ?? 2;
    this.idleReleaseMs = options.idleReleaseMs ?? 10 * 60_000;
  }

  /**
   * An uninitialised Float32Array of `voxels` values: the smallest kept buffer that is large
   * enough (its old contents still in it), or new memory.
   */
  take(voxels: number): Float32Array {
    const bytes = voxels * Float32Array.BYTES_PER_ELEMENT;
    let best = -1;
    for (let i = 0; i < this.kept.length; i++) {
      if (this.kept[i].byteLength >= bytes && (best < 0 || this.kept[i].byteLength < this.kept[best].byteLength)) best = i;
    }
    if (best < 0) return new Float32Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, voxels);
    const buffer = this.kept.splice(best, 1)[0];
    this.touch();
    return new Float32Array(buffer, 0, voxels);
  }

  /**
   * Gives a volume's memory back. Only when nothing reads or writes `data` (nor another view of
   * its buffer) any more: the next take hands the same memory out again. The largest buffers are
   * the ones kept.
   */
  give(data: Float32Array): void {
    const buffer = data.buffer;
    if (!(buffer instanceof ArrayBuffer) || this.kept.includes(buffer)) return;
    this.kept.push(buffer);
    this.kept.sort((a, b) => b.byteLength - a.byteLength);
    this.kept.length = Math.min(this.kept.length, this.maxKept);
    this.touch();
  }

  /** Bytes kept for reuse now. */
  get keptBytes(): number {
    return this.kept.reduce((sum, b) => sum + b.byteLength, 0);
  }

  /** Lets go of all kept memory (the garbage collector frees it). */
  release(): void {
    this.kept = [];
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.kept.length === 0) return;
    this.idleTimer = setTimeout(() => this.release(), this.idleReleaseMs);
    this.idleTimer.unref();
  }
}
