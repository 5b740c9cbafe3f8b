/**
 * JSON errors of the HTTP API: every error answer is `{"error": {"code": "...", "message": "..."}}`
 * with a stable kebab-case code (docs/http-api.md lists them).
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from '../logging/logger';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).type('application/json').send(JSON.stringify({ error: { code, message } }));
}

/** Maps body-parser failures, HttpErrors and anything else to JSON errors. */
export function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof HttpError) {
      sendError(res, err.status, err.code, err.message);
      return;
    }
    // body-parser (express.json / urlencoded) marks its errors with `type` and `status`.
    const e = err as { type?: string; status?: number; message?: string; limit?: number };
    if (e?.type === 'entity.too.large') {
      sendError(res, 413, 'body-too-large', `the request body is larger than the limit of ${e.limit ?? '?'} bytes (api.maxBodyBytes)`);
      return;
    }
    if (e?.type === 'entity.parse.failed') {
      sendError(res, 400, 'invalid-json', `the request body is not valid JSON: ${e.message ?? ''}`.trim());
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      sendError(res, e.status, 'bad-request', e.message ?? 'bad request');
      return;
    }
    // The PACS behind the node (intake reads the study from it).
    const name = (err as { name?: unknown } | null)?.name;
    if (name === 'TransientError') {
      logger.warn('HTTP request: the PACS is unavailable', { method: req.method, path: req.path, err });
      sendError(res, 503, 'pacs-unavailable', `the PACS did not answer: ${e.message ?? ''}`.trim());
      return;
    }
    if (name === 'PermanentError') {
      logger.warn('HTTP request: the PACS refused', { method: req.method, path: req.path, err });
      sendError(res, 502, 'pacs-error', `the PACS refused the node's request: ${e.message ?? ''}`.trim());
      return;
    }
    logger.error('HTTP request failed', { method: req.method, path: req.path, err });
    sendError(res, 500, 'internal-error', 'the node failed to answer this request; see its log');
  };
}
