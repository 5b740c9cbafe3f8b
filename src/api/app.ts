/**
 * The node's HTTP API (express 5), one app:
 *
 *   GET  /healthz                 the process is up (no token)
 *   GET  /login, POST /login      browser login with the API token (sets a session cookie)
 *   POST /logout
 *   GET  /readyz                  Orthanc reachable, models verified, store writable (each reported)
 *   GET  /metrics                 Prometheus text exposition
 *   /api/...                      jobs, manual trigger, retry, intake events, Orthanc's webhook (jobRoutes.ts)
 *   GET  /api/nodes               the nodes sharing the job store: live, feed follower, running jobs
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
  /** This node's id (dataDir/node-id), marked `self` in the nodes list. */
  nodeId?: string;
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

function viewerLinkFactory(options: ApiAppOptions): (uid: string) => string | undefined {
  if (options.viewerUrlTemplate) {
    const template = options.viewerUrlTemplate;
    return (uid) => template.replace(/\{StudyInstanceUID\}/g, encodeURIComponent(uid));
  }
  if (options.viewer) return (uid) => `/viewer?StudyInstanceUIDs=${encodeURIComponent(uid)}`;
  return () => undefined;
}

function page(res: Response, status: number, body: string): void {
  res.status(status).set({ 'Content-Security-Policy': PAGE_CSP, 'Cache-Control': 'no-store' }).type('html').send(body);
}

/** The session's CSRF token for the page's forms; empty for a request authenticated by the token header. */
function csrfTokenOf(res: Response): string {
  const auth = res.locals.auth as Authentication | undefined;
  return auth?.kind === 'session' ? auth.session.csrfToken : '';
}

/** Headers on every answer. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
  next();
};

/** Browser login: the token once, then a session cookie. Also the page assets, which need no token. */
function mountLoginRoutes(app: Express, options: ApiAppOptions, sessions: SessionStore, logger: Logger): void {
  app.get('/assets/status.css', (_req, res) => void res.type('text/css').set('Cache-Control', 'no-cache').send(STATUS_PAGE_CSS));
  app.get('/assets/status.js', (_req, res) => void res.type('application/javascript').set('Cache-Control', 'no-cache').send(STATUS_PAGE_SCRIPT));
  app.get('/login', (req, res) => page(res, 200, renderLoginPage({ version: options.version, next: safeNextPath(req.query.next) })));
  app.post('/login', express.urlencoded({ extended: false, limit: 4096 }), async (req: Request, res: Response) => {
    const form = req.body as { token?: unknown; next?: unknown } | undefined;
    const next = safeNextPath(form?.next);
    if (typeof form?.token !== 'string' || !secretsEqual(form.token.trim(), options.token)) {
      // A short pause makes guessing slower; tokens are long and random anyway.
      await new Promise((resolve) => setTimeout(resolve, 300));
      logger.warn('failed login on the status page', { ip: req.ip });
      page(res, 401, renderLoginPage({ version: options.version, next, error: 'That is not the API token.' }));
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
}

/** GET /readyz and GET /metrics, for monitoring. */
function mountMonitoringRoutes(app: Express, options: ApiAppOptions): void {
  app.get('/readyz', async (_req, res) => {
    const report = await options.readiness();
    res.status(report.ready ? 200 : 503).json(report);
  });

  app.get('/metrics', async (_req, res) => {
    const [jobsByState, extra] = await Promise.all([options.store.countByState(), options.metricsSnapshot()]);
    res.type('text/plain; version=0.0.4; charset=utf-8').send(options.metrics.render({ jobsByState, ...extra }));
  });
}

/** The JSON API under /api (jobRoutes.ts), with its body limit and its own 404. */
function mountJobApi(app: Express, options: ApiAppOptions, viewerUrl: (uid: string) => string | undefined, logger: Logger): void {
  app.use('/api', express.json({ limit: options.maxBodyBytes, type: 'application/json' }));
  app.use(
    '/api',
    createJobRoutes({
      store: options.store,
      intake: options.intake,
      webhookEnabled: options.feedMode !== 'poll',
      viewerUrl,
      ...(options.onQueued ? { onQueued: options.onQueued } : {}),
      onIntake: (source, outcome) => options.metrics.intakeEvent(source, outcome),
      logger,
    }),
  );
  app.get('/api/nodes', async (_req, res) => {
    const nodes = await options.store.listNodes();
    res.json({ nodes: nodes.map((node) => ({ ...node, self: node.nodeId === options.nodeId })) });
  });
  app.use('/api', (req, res) => sendError(res, 404, 'not-found', `no route ${req.method} ${req.baseUrl}${req.path}`));
}

/** The status page (GET /) and a job's page (GET /jobs/:id). */
function mountStatusPages(app: Express, options: ApiAppOptions, viewerUrl: (uid: string) => string | undefined): void {
  app.get('/', async (req, res) => {
    const state = typeof req.query.state === 'string' && (JOB_STATES as string[]).includes(req.query.state) ? (req.query.state as JobState) : undefined;
    const before = typeof req.query.before === 'string' && /^[1-9][0-9]{0,14}$/.test(req.query.before) ? Number(req.query.before) : undefined;
    const [counts, pageOfJobs, events, readiness, snapshot, nodes] = await Promise.all([
      options.store.countByState(),
      options.store.list({ ...(state ? { state } : {}), limit: 50, ...(before ? { beforeId: before } : {}) }),
      options.store.listIntakeEvents(10),
      options.readiness(),
      options.metricsSnapshot(),
      options.store.listNodes(),
    ]);
    page(
      res,
      200,
      renderStatusPage({
        version: options.version,
        counts,
        readiness,
        jobs: pageOfJobs.jobs,
        ...(state ? { filter: state } : {}),
        ...(pageOfJobs.nextBeforeId !== undefined ? { nextBeforeId: pageOfJobs.nextBeforeId } : {}),
        events,
        csrfToken: csrfTokenOf(res),
        viewerUrl,
        changeCursor: snapshot.changeCursor ?? 0,
        feedMode: options.feedMode,
        nodes,
        ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}),
        models: options.models,
        ...(snapshot.waitingFor ? { waitingFor: snapshot.waitingFor } : {}),
      }),
    );
  });

  app.get('/jobs/:id', async (req, res) => {
    const raw = String(req.params.id);
    if (!/^[1-9][0-9]{0,14}$/.test(raw)) throw new HttpError(400, 'invalid-job-id', `job id must be a positive integer, got "${raw.slice(0, 40)}"`);
    const job = await options.store.get(Number(raw));
    if (!job) throw new HttpError(404, 'job-not-found', `no job ${raw}`);
    const link = viewerUrl(job.studyInstanceUID);
    page(res, 200, renderJobPage(job, { version: options.version, csrfToken: csrfTokenOf(res), ...(link ? { viewerUrl: link } : {}) }));
  });
}

export function createApiApp(options: ApiAppOptions): Express {
  const logger = (options.logger ?? silentLogger).child({ component: 'api' });
  const sessions = options.sessions ?? new SessionStore();
  const viewerUrl = viewerLinkFactory(options);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ? 'loopback, linklocal, uniquelocal' : false);
  app.use(securityHeaders);

  // Liveness: no token, no I/O.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', version: options.version });
  });
  mountLoginRoutes(app, options, sessions, logger);

  // Everything below needs the token.
  app.use(requireAuth(options.token, sessions));
  mountMonitoringRoutes(app, options);
  mountJobApi(app, options, viewerUrl, logger);
  mountStatusPages(app, options, viewerUrl);
  if (options.viewer) app.use(options.viewer);

  const notFound: RequestHandler = (req, res) => sendError(res, 404, 'not-found', `no route ${req.method} ${req.path}`);
  app.use(notFound);
  app.use(jsonErrorHandler(logger));
  return app;
}
