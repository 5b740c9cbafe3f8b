/**
 * When one HTTP request to the PACS is tried again, and after how long. Pure functions, so the
 * policy is tested without a network.
 *
 * Only failures that may pass are retried: 5xx answers and connection trouble (refused, reset,
 * timed out). 4xx answers, authentication failures and TLS verification errors are the same on
 * every attempt, so they end the request at once.
 */

/** Longest single wait between attempts, whatever the attempt number. */
export const MAX_REQUEST_BACKOFF_MS = 30_000;

/**
 * Wait before attempt `attempt + 1`, after `attempt` failed attempts (1-based): `baseMs`,
 * then doubling, capped at `maxMs`.
 */
export function requestBackoffMs(attempt: number, baseMs: number, maxMs = MAX_REQUEST_BACKOFF_MS): number {
  if (attempt < 1) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
}

/** 5xx: the server failed, not the request (RFC 9110 15.6). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

/** Connection-level errors worth another attempt (Node's `err.code`). */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * 'transient' for connection errors that may pass, 'permanent' otherwise (TLS verification,
 * malformed URLs, ...). An error whose code is unknown is permanent: retrying the unknown
 * hides bugs.
 */
export function classifyConnectionError(err: unknown): 'transient' | 'permanent' {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return 'transient';
  // "socket hang up" carries ECONNRESET; a server that closes mid-response has no code at all.
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && /socket hang up|aborted/i.test(message) && code === undefined) return 'transient';
  return 'permanent';
}
