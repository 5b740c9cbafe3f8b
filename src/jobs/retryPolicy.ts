/**
 * What happens to a job whose attempt threw: pure functions of the error, the attempts made and
 * the worker configuration (config worker.*), so the policy is tested without a clock or a store.
 *
 * - AnalysisRefusedError: the input cannot be analysed; retrying will not change it. Skipped,
 *   with the error's code (e.g. `single-phase`).
 * - Retryable errors (TransientError, or anything with `retryable: true`; see src/errors):
 *   queued again after an exponential delay, until `maxAttempts` attempts have been made; then
 *   dead-lettered as `attempts-exhausted`.
 * - PermanentError: dead-lettered at once as `permanent-error`.
 * - Anything else is a defect in the node, not in the study or the PACS: dead-lettered at once as
 *   `internal-error`, so it is seen rather than retried in a loop. An administrator can retry it.
 *
 * Errors are recognised by `name` as well as class, because they may cross process boundaries.
 */
import { isRetryable } from '../errors';
import type { JobReason } from './jobStore';

export interface RetryPolicyConfig {
  /** Attempts of a job before it is dead-lettered. */
  maxAttempts: number;
  /** Delay before the second attempt, in ms; doubles per attempt. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

export type FailureDecision =
  | { action: 'skip'; reason: JobReason }
  | { action: 'retry'; reason: JobReason; notBefore: Date }
  | { action: 'dead-letter'; reason: JobReason };

/** Delay after `attempts` failed attempts (1-based): base, 2 x base, 4 x base, ... capped. */
export function jobRetryDelayMs(attempts: number, config: RetryPolicyConfig): number {
  if (attempts < 1) return 0;
  return Math.min(config.retryMaxDelayMs, config.retryBaseDelayMs * 2 ** Math.min(attempts - 1, 30));
}

/** The message of anything thrown. */
export function failureMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  return String(err);
}

function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The decision after attempt number `attempts` (as counted by the store, this one included)
 * threw `err` at `now`.
 */
export function decideOnFailure(err: unknown, attempts: number, config: RetryPolicyConfig, now: Date): FailureDecision {
  const message = failureMessage(err);
  const name = errorName(err);
  if (name === 'AnalysisRefusedError') {
    const code = (err as { code?: unknown }).code;
    return { action: 'skip', reason: { code: typeof code === 'string' && code !== '' ? code : 'analysis-refused', message } };
  }
  if (isRetryable(err)) {
    if (attempts >= config.maxAttempts) {
      return { action: 'dead-letter', reason: { code: 'attempts-exhausted', message: `${attempts} attempts; last: ${message}` } };
    }
    return { action: 'retry', reason: { code: 'transient-error', message }, notBefore: new Date(now.getTime() + jobRetryDelayMs(attempts, config)) };
  }
  if (name === 'PermanentError') return { action: 'dead-letter', reason: { code: 'permanent-error', message } };
  return { action: 'dead-letter', reason: { code: 'internal-error', message: `${name ?? 'Error'}: ${message}` } };
}

/**
 * A job claimed again after more attempts than allowed (its worker died each time, e.g. a study
 * that crashes the process) is dead-lettered without running it once more.
 */
export function exhaustedBeforeStart(attempts: number, config: RetryPolicyConfig): JobReason | undefined {
  if (attempts <= config.maxAttempts) return undefined;
  return { code: 'attempts-exhausted', message: `the node stopped during ${attempts - 1} attempts of this job (crash or kill); not trying again` };
}
