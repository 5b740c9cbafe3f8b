/**
 * Something outside the node failed in a way that may pass: the PACS answered 5xx, a connection
 * was refused or reset, a request timed out. The job is retried with backoff.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  readonly retryable = true;
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
