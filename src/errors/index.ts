export { AnalysisRefusedError } from './AnalysisRefusedError';
export { ConfigError } from './ConfigError';
export { PermanentError } from './PermanentError';
export { DATASET_ONLY_REASON_CODES, isReasonCode, REASON_CODES, type ReasonCode } from './reasonCodes';
export { TransientError } from './TransientError';

/**
 * Whether a failure may pass on a later attempt. Looks at `name` as well as the class, because
 * errors cross worker and process boundaries as plain objects (BullMQ does the same).
 */
export function isRetryable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { name?: unknown; retryable?: unknown };
  if (typeof e.retryable === 'boolean') return e.retryable;
  return e.name === 'TransientError';
}
