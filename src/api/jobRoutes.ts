/**
 * Job routes of the HTTP API (docs/http-api.md has the OpenAPI description):
 *   GET  /api/jobs?state=&study=&limit=&before=     newest first, paged
 *   GET  /api/jobs/:id                              one job: selection explanation, timings, outcome, result UIDs, reason
 *   POST /api/jobs/:id/retry                        a finished job (done, skipped, failed) queued again
 *   POST /api/studies/:StudyInstanceUID/analyze     manual trigger or re-run, body {"rerun": boolean} optional
 *   GET  /api/intake-events?limit=                  what happened to recent notifications ("did it pick up my study?")
 *   POST /api/webhook/stable-study                  Orthanc's Lua script (orthanc-config/tsr-node-webhook.lua); answers 202 at once
 */
import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import { JOB_STATES, type Job, type JobStore } from '../jobs/jobStore';
import type { IntakeResult, StudyIntake } from '../orthanc/intake';
import { isOrthancId } from '../orthanc/orthancRest';
import type { Logger } from '../logging/logger';
import { HttpError } from './httpErrors';

export interface JobRoutesOptions {
  store: JobStore;
  intake: Pick<StudyIntake, 'analyzeStudy' | 'onStableStudyNotification'>;
  /** Whether the webhook is on (feed.mode webhook or both). */
  webhookEnabled: boolean;
  /** Viewer link of a study, when a viewer is available. */
  viewerUrl?: (studyInstanceUID: string) => string | undefined;
  /** A job was queued (manual trigger, retry, webhook): wake the worker. */
  onQueued?: () => void;
  /** Counts intake requests (metrics). */
  onIntake?: (source: 'manual' | 'webhook', outcome: string) => void;
  /** Waits between attempts to read a notified study when Orthanc is unavailable; default 2, 5, 15 s. */
  webhookRetryDelaysMs?: number[];
  logger?: Logger;
}

/** A DICOM UID (PS3.5 9.1): digits and dots, components without leading zeros, at most 64 characters. */
export function uidProblem(uid: string): string | undefined {
  if (uid.length === 0) return 'it is empty';
  if (uid.length > 64) return `it has ${uid.length} characters; a UID has at most 64`;
  if (!/^[0-9.]+$/.test(uid)) return 'a UID holds only digits and dots';
  const parts = uid.split('.');
  if (parts.some((component) => component.length === 0)) return 'it has an empty component (two dots in a row, or a dot at either end)';
  if (parts.some((component) => component.length > 1 && component.startsWith('0'))) return 'a component starts with 0 (PS3.5 9.1 forbids leading zeros)';
  return undefined;
}

function reasonOf(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`).join('; ');
}

const listQuerySchema = z
  .object({
    state: z.enum(JOB_STATES as [string, ...string[]]).optional(),
    study: z.string().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().positive().optional(),
  })
  .strict();

const analyzeBodySchema = z.object({ rerun: z.boolean().optional() }).strict();

/** The webhook body the Lua script sends. */
export const webhookBodySchema = z
  .object({
    event: z.literal('StableStudy').optional(),
    orthancStudyId: z.string().refine(isOrthancId, { message: 'not an Orthanc study id (five groups of eight hex digits)' }),
    studyInstanceUID: z.string().max(64).optional(),
  })
  .strict();

function jobId(req: Request): number {
  const raw = String(req.params.id);
  if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw new HttpError(400, 'invalid-job-id', `job id must be a positive integer, got "${raw.slice(0, 40)}"`);
  return Number(raw);
}

/** Only JSON bodies (or none). */
function jsonBody(req: Request): unknown {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!req.is('application/json')) {
    if (length > 0 || req.headers['transfer-encoding'] !== undefined) throw new HttpError(415, 'unsupported-media-type', 'send the body as application/json');
    return undefined;
  }
  return req.body as unknown;
}

/** A job as the API shows it: with its viewer link when there is one. */
type JobPresenter = (job: Job) => Job & { viewerUrl?: string };

function jobPresenter(options: JobRoutesOptions): JobPresenter {
  return (job) => {
    const viewerUrl = options.viewerUrl?.(job.studyInstanceUID);
    return viewerUrl ? { ...job, viewerUrl } : job;
  };
}

/** The HTTP answer to an intake request; counts it, and wakes the worker when a job was queued. */
function intakeAnswer(result: IntakeResult, source: 'manual' | 'webhook', options: JobRoutesOptions, present: JobPresenter): { status: number; body: unknown } {
  options.onIntake?.(source, result.outcome);
  if (result.outcome === 'enqueued' || result.outcome === 'requeued') options.onQueued?.();
  const body = { outcome: result.outcome, ...(result.message ? { message: result.message } : {}), ...(result.job ? { job: present(result.job) } : {}) };
  switch (result.outcome) {
    case 'enqueued':
    case 'requeued':
      return { status: 202, body };
    case 'recognised':
    case 'study-deleted':
      return { status: 200, body };
    case 'not-found':
      throw new HttpError(404, 'study-not-found', result.message ?? 'the PACS has no instances of this study');
    default:
      throw new HttpError(400, 'ignored', result.message ?? 'the request was ignored');
  }
}

/** GET /jobs (paged list) and GET /jobs/:id. */
function mountJobQueries(router: Router, store: JobStore, present: JobPresenter): void {
  router.get('/jobs', async (req, res) => {
    const parsed = listQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'invalid-query', reasonOf(parsed.error));
    const query = parsed.data;
    if (query.study !== undefined) {
      const problem = uidProblem(query.study);
      if (problem) throw new HttpError(400, 'invalid-uid', `study: ${problem}`);
    }
    const page = await store.list({
      ...(query.state ? { state: query.state as Job['state'] } : {}),
      ...(query.study ? { studyInstanceUID: query.study } : {}),
      limit: query.limit,
      ...(query.before ? { beforeId: query.before } : {}),
    });
    let next: string | undefined;
    if (page.nextBeforeId !== undefined) {
      const params = new URLSearchParams({ ...(query.state ? { state: query.state } : {}), ...(query.study ? { study: query.study } : {}), limit: String(query.limit), before: String(page.nextBeforeId) });
      next = `/api/jobs?${params.toString()}`;
    }
    res.json({ jobs: page.jobs.map(present), ...(page.nextBeforeId !== undefined ? { nextBeforeId: page.nextBeforeId, next } : {}) });
  });

  router.get('/jobs/:id', async (req, res) => {
    const job = await store.get(jobId(req));
    if (!job) throw new HttpError(404, 'job-not-found', `no job ${req.params.id}`);
    res.json(present(job));
  });
}

/** POST /jobs/:id/retry and POST /studies/:StudyInstanceUID/analyze: what an administrator asks for. */
function mountRetryAndAnalyze(router: Router, options: JobRoutesOptions, present: JobPresenter): void {
  router.post('/jobs/:id/retry', async (req, res) => {
    const id = jobId(req);
    const body = jsonBody(req);
    if (body !== undefined && !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
      throw new HttpError(400, 'invalid-body', 'this route takes no body (or {})');
    }
    const result = await options.store.requeue(id);
    if (!result) throw new HttpError(404, 'job-not-found', `no job ${id}`);
    if (!result.requeued) throw new HttpError(409, 'job-active', `job ${id} is ${result.job.state}; only done, skipped or failed jobs can be retried`);
    options.onQueued?.();
    res.status(202).json({ outcome: 'requeued', job: present(result.job) });
  });

  router.post('/studies/:studyInstanceUID/analyze', async (req, res) => {
    const uid = String(req.params.studyInstanceUID);
    const problem = uidProblem(uid);
    if (problem) throw new HttpError(400, 'invalid-uid', `StudyInstanceUID "${uid.slice(0, 80)}" is not a DICOM UID: ${problem}`);
    const body = jsonBody(req);
    const parsed = analyzeBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw new HttpError(400, 'invalid-body', reasonOf(parsed.error));
    // A re-run is what an administrator asking for an analysis of a known study means.
    const result = await options.intake.analyzeStudy(uid, { rerun: parsed.data.rerun ?? true });
    const answer = intakeAnswer(result, 'manual', options, present);
    res.status(answer.status).json(answer.body);
  });
}

/** GET /intake-events. */
function mountIntakeEvents(router: Router, store: JobStore): void {
  router.get('/intake-events', async (req, res) => {
    const parsed = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict().safeParse(req.query);
    if (!parsed.success) throw new HttpError(400, 'invalid-query', reasonOf(parsed.error));
    res.json({ events: await store.listIntakeEvents(parsed.data.limit) });
  });
}

/** POST /webhook/stable-study, Orthanc's notification of a stable study. */
function mountWebhook(router: Router, options: JobRoutesOptions): void {
  // Orthanc's Lua callback waits for this answer while holding Orthanc's Lua context, and Orthanc
  // does not serve the node's own requests about the study until the callback returns (seen with
  // Orthanc 1.10: the node's GET /studies/{id} then waited for the Lua HttpPost to time out). So
  // the notification is acknowledged at once and the study is read from Orthanc afterwards.
  router.post('/webhook/stable-study', (req, res) => {
    if (!options.webhookEnabled) {
      throw new HttpError(409, 'webhook-disabled', 'the webhook is off (feed.mode is "poll"); set feed.mode to "webhook" or "both"');
    }
    const body = jsonBody(req);
    if (body === undefined) throw new HttpError(400, 'invalid-body', 'expected a JSON body {"event": "StableStudy", "orthancStudyId": "…"}');
    const parsed = webhookBodySchema.safeParse(body);
    if (!parsed.success) throw new HttpError(400, 'invalid-body', reasonOf(parsed.error));
    const { orthancStudyId } = parsed.data;
    options.logger?.info('webhook: StableStudy received', { orthancStudyId });
    res.status(202).json({ outcome: 'accepted', orthancStudyId });
    void resolveNotification(options, orthancStudyId);
  });
}

/** Reads the notified study from Orthanc and enqueues it; PACS trouble is retried a few times. */
async function resolveNotification(options: JobRoutesOptions, orthancStudyId: string): Promise<void> {
  const delays = options.webhookRetryDelaysMs ?? [2000, 5000, 15_000];
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await options.intake.onStableStudyNotification({ orthancStudyId });
      options.onIntake?.('webhook', result.outcome);
      if (result.outcome === 'enqueued' || result.outcome === 'requeued') options.onQueued?.();
      return;
    } catch (err) {
      const retryable = (err as { name?: unknown } | null)?.name === 'TransientError';
      if (!retryable || attempt >= delays.length) {
        options.logger?.warn('webhook: cannot read the notified study from Orthanc; the change feed (feed.mode both) will catch it', { orthancStudyId, err });
        options.onIntake?.('webhook', 'error');
        await options.store.recordIntakeEvent({ source: 'webhook', outcome: 'ignored', orthancStudyId, message: `cannot read the study from Orthanc: ${(err as Error).message}` }).catch(() => undefined);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delays[attempt]));
    }
  }
}

export function createJobRoutes(options: JobRoutesOptions): Router {
  const router = express.Router();
  const present = jobPresenter(options);
  mountJobQueries(router, options.store, present);
  mountRetryAndAnalyze(router, options, present);
  mountIntakeEvents(router, options.store);
  mountWebhook(router, options);
  return router;
}
