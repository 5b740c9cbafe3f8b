/**
 * A failure that retrying will not fix and that is not about the input study: the PACS refused
 * our credentials (401/403), answered 4xx to a well-formed request, or rejected a stored object.
 * The job fails at once (dead letter) with this message as its reason.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  readonly retryable = false;
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
