import type { ReasonCode } from './reasonCodes';

/**
 * The study (or a series of it) cannot be analysed, and trying again will not change that:
 * wrong modality, a single phase, a missing slice, an unsupported transfer syntax, ...
 * A job that throws it ends in the `skipped` state with `code` and `message` as its reason.
 */
export class AnalysisRefusedError extends Error {
  override readonly name = 'AnalysisRefusedError';
  readonly retryable = false;
  constructor(
    /** Stable, machine-readable reason, e.g. `single-phase` or `slice-gap` (src/errors/reasonCodes.ts). */
    readonly code: ReasonCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
