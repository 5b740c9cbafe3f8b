/**
 * The node's HTTP API (express 5), one app:
 *
 *   GET  /healthz                 the process is up (no token)
 *   GET  /login, POST /login      browser login with the API token (sets a session cookie)
 *   POST /logout
 *   GET  /readyz                  Orthanc reachable, models verified, store writable (each reported)
 *   GET  /metrics                 Prometheus text exposition
 *   /api/...                      jobs, manual trigger, retry, intake events, Orthanc's webhook (jobRoutes.ts)
 *   GET  /, GET /jobs/:id         the status page
 *   everything else               the OHIF viewer and its read-only DICOMweb proxy, when mounted
 *
 * Every route but /healthz, the login page and the page assets needs the API token (auth.ts).
 * Bodies are limited to api.maxBodyBytes; errors are JSON `{error: {code, message}}`.
 */
import express, { type Express, type Request, type RequestHandler, type Response, type Router } from 'express';
import { JOB_STATES, type JobState, type JobStore } from '../jobs/jobStore';
import { silentLogger, type Logger } from '../logging/logger';
import type { StudyIntake } from '../orthanc/intake';
import { parseCookies, requireAuth, safeNextPath, secretsEqual, SESSION_COOKIE, sessionCookie, SessionStore, type Authentication } from './auth';
import { HttpError, jsonErrorHandler, sendError } from './httpErrors';
import { createJobRoutes } from './jobRoutes';
import type { MetricsSnapshot, NodeMetrics } from './metrics';
import type { ReadinessReport } from './readiness';
import { renderJobPage, renderLoginPage, renderStatusPage, STATUS_PAGE_CSS, STATUS_PAGE_SCRIPT } from './statusPage';

export interface ApiAppOptions {
  token: string;
  store: JobStore;
  intake: Pick<StudyIntake, 'analyzeStudy' | 'onStableStudyNotification'>;
  metrics: NodeMetrics;
  /** Gauges beyond the store's counts (cursor, models, worker). */
  metricsSnapshot: () => Promise<Omit<MetricsSnapshot, 'jobsByState'>>;
  readiness: () => Promise<ReadinessReport>;
  version: string;
  feedMode: 'poll' | 'webhook' | 'both';
  models: Array<{ role: string; name: string; version: string }>;
  /** config api.maxBodyBytes */
  maxBodyBytes: number;
  /** The OHIF viewer router (src/viewer), mounted after the node's own routes. */
  viewer?: Router;
  /** Link to a study in a viewer: config api.viewerUrlTemplate, else the mounted OHIF. */
  viewerUrlTemplate?: string;
  /** Express "trust proxy" (config api.trustProxy): honour X-Forwarded-* from a reverse proxy. */
  trustProxy?: boolean;
  /** A job was queued through the API: wake the worker. */
  onQueued?: () => void;
  sessions?: SessionStore;
  logger?: Logger;
}

const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function viewerLinkFactory(o: ApiAppOptions): (uid: string) => string | undefined {
  if (o.viewerUrlTemplate) {
    const template = o.viewerUrlTemplate;
    return (uid) => template.replace(/\{StudyInstanceUID\}/g, encodeURIComponent(uid));
  }
  if (o.viewer) return (uid) => `/viewer?StudyInstanceUIDs=${encodeURIComponent(uid)}`;
  return () => undefined;
}

function page(res: Response, status: number, body: string): void {
  res.status(status).set({ 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' }).type('html').send(body);
}

export function createApiApp(o: ApiAppOptions): Express {
  const logger = (o.logger ?? silentLogger).child({ component: 'api' });
  const sessions = o.sessions ?? new SessionStore();
  const viewerUrl = viewerLinkFactory(o);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', o.trustProxy ? 'loopback, linklocal, uniquelocal' : false);
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  });

  // Liveness: no token, no I/O.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: o.version });
  });

  // Browser login: the token once, then a session cookie.
  app.get('/assets/status.css', (_req, res) => void res.type('text/css').set('Cache-Control', 'no-cache').send(STATUS_PAGE_CSS));
  app.get('/assets/status.js', (_req, res) => void res.type('application/javascript').set('Cache-Control', 'no-cache').send(STATUS_PAGE_SCRIPT));
  app.get('/login', (req, res) => page(res, 200, renderLoginPage({ version: o.version, next: safeNextPath(req.query.next) })));
  app.post('/login', express.urlencoded({ extended: false, limit: 4096 }), async (req: Request, res: Response) => {
    const form = req.body as { token?: unknown; next?: unknown } | undefined;
    const next = safeNextPath(form?.next);
    if (typeof form?.token !== 'string' || !secretsEqual(form.token.trim(), o.token)) {
      // A short pause makes guessing slower; tokens are long and random anyway.
      await new Promise((r) => setTimeout(r, 300));
      logger.warn('failed login on the status page', { ip: req.ip });
      page(res, 401, renderLoginPage({ version: o.version, next, error: 'That is not the API token.' }));
      return;
    }
    const session = sessions.create();
    res.set('Set-Cookie', sessionCookie(session.id, sessions.maxAgeSeconds, req.secure));
    res.redirect(303, next);
  });
  app.post('/logout', express.urlencoded({ extended: false, limit: 4096 }), (req, res) => {
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const session = sessions.get(id);
    const csrf = (req.body as { csrf?: unknown } | undefined)?.csrf;
    if (session && typeof csrf === 'string' && secretsEqual(csrf, session.csrfToken)) sessions.delete(id);
    res.set('Set-Cookie', sessionCookie('', 0, req.secure));
    res.redirect(303, '/login');
  });

  // Everything below needs the token.
  app.use(requireAuth(o.token, sessions));

  app.get('/readyz', async (_req, res) => {
    const report = await o.readiness();
    res.status(report.ready ? 200 : 503).json(report);
  });

  app.get('/metrics', async (_req, res) => {
    const [jobsByState, extra] = await Promise.all([o.store.countByState(), o.metricsSnapshot()]);
    res.type('text/plain; version=0.0.4; charset=utf-8').send(o.metrics.render({ jobsByState, ...extra }));
  });

  app.use('/api', express.json({ limit: o.maxBodyBytes, type: 'application/json' }));
  app.use(
    '/api',
    createJobRoutes({
      store: o.store,
      intake: o.intake,
      webhookEnabled: o.feedMode !== 'poll',
      viewerUrl,
      ...(o.onQueued ? { onQueued: o.onQueued } : {}),
      onIntake: (source, outcome) => o.metrics.intakeEvent(source, outcome),
      logger,
    }),
  );
  app.use('/api', (req, res) => sendError(res, 404, 'not-found', `no route ${req.method} ${req.baseUrl}${req.path}`));

  const csrfOf = (res: Response): string => {
    const auth = res.locals.auth as Authentication | undefined;
    return auth?.kind === 'session' ? auth.session.csrfToken : '';
  };

  app.get('/', async (req, res) => {
    const state = typeof req.query.state === 'string' && (JOB_STATES as string[]).includes(req.query.state) ? (req.query.state as JobState) : undefined;
    const before = typeof req.query.before === 'string' && /^[1-9][0-9]{0,14}$/.test(req.query.before) ? Number(req.query.before) : undefined;
    const [counts, pageOfJobs, events, readiness, snapshot] = await Promise.all([
      o.store.countByState(),
      o.store.list({ ...(state ? { state } : {}), limit: 50, ...(before ? { beforeId: before } : {}) }),
      o.store.listIntakeEvents(10),
      o.readiness(),
      o.metricsSnapshot(),
    ]);
    page(
      res,
      200,
      renderStatusPage({
        version: o.version,
        counts,
        readiness,
        jobs: pageOfJobs.jobs,
        ...(state ? { filter: state } : {}),
        ...(pageOfJobs.nextBeforeId !== undefined ? { nextBeforeId: pageOfJobs.nextBeforeId } : {}),
        events,
        csrfToken: csrfOf(res),
        viewerUrl,
        changeCursor: snapshot.changeCursor ?? 0,
        feedMode: o.feedMode,
        models: o.models,
      }),
    );
  });

  app.get('/jobs/:id', async (req, res) => {
    const raw = String(req.params.id);
    if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw new HttpError(400, 'invalid-job-id', `job id must be a positive integer, got "${raw.slice(0, 40)}"`);
    const job = await o.store.get(Number(raw));
    if (!job) throw new HttpError(404, 'job-not-found', `no job ${raw}`);
    const link = viewerUrl(job.studyInstanceUID);
    page(res, 200, renderJobPage(job, { version: o.version, csrfToken: csrfOf(res), ...(link ? { viewerUrl: link } : {}) }));
  });

  if (o.viewer) app.use(o.viewer);

  const notFound: RequestHandler = (req, res) => sendError(res, 404, 'not-found', `no route ${req.method} ${req.path}`);
  app.use(notFound);
  app.use(jsonErrorHandler(logger));
  return app;
}
