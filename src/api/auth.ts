/**
 * Authentication of the HTTP API: every route but /healthz needs the API token, either as
 * `Authorization: Bearer <token>` (scripts, Prometheus, Orthanc's Lua webhook) or, in a browser,
 * as a session cookie obtained by posting the token once to /login (the status page and the OHIF
 * viewer, whose requests cannot carry a bearer header). The token never appears in a URL.
 *
 * - Tokens are compared in constant time (SHA-256 of both, then timingSafeEqual), so the time
 *   of a wrong guess says nothing about the right token.
 * - The session cookie is random, HttpOnly and SameSite=Strict (Secure when the request came by
 *   HTTPS), kept in memory only: a restart logs browsers out.
 * - A request authenticated by cookie that changes something (POST, ...) must also carry the
 *   session's CSRF token in the `X-CSRF-Token` header, which a page from another site cannot read
 *   or send without a CORS preflight that the node never grants.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendError } from './httpErrors';

export const SESSION_COOKIE = 'tsr_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Constant-time equality of two secrets of any length. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export interface Session {
  id: string;
  csrfToken: string;
  expiresAt: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number = 12 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  create(): Session {
    this.sweep();
    const session = { id: randomBytes(32).toString('base64url'), csrfToken: randomBytes(24).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

/** Cookies of a request (RFC 6265 `Cookie` header), without a dependency. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !(name in out)) {
      try {
        out[name] = decodeURIComponent(value);
      } catch {
        out[name] = value;
      }
    }
  }
  return out;
}

export type Authentication = { kind: 'bearer' } | { kind: 'session'; session: Session };

export function authenticate(req: Request, token: string, sessions: SessionStore): Authentication | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m && secretsEqual(m[1], token) ? { kind: 'bearer' } : undefined;
  }
  const session = sessions.get(parseCookies(req.headers.cookie)[SESSION_COOKIE]);
  return session ? { kind: 'session', session } : undefined;
}

/** Whether the client wants a page rather than JSON (a browser navigating). */
export function wantsHtml(req: Request): boolean {
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

/**
 * Lets authenticated requests through (res.locals.auth is set); answers 401 otherwise, or
 * redirects a browser to the login page.
 */
export function requireAuth(token: string, sessions: SessionStore): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const auth = authenticate(req, token, sessions);
    if (!auth) {
      if (wantsHtml(req) && req.headers.authorization === undefined) {
        res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
        return;
      }
      res.set('WWW-Authenticate', 'Bearer realm="tsr-node"');
      sendError(res, 401, 'unauthorized', 'this route needs the API token: "Authorization: Bearer <token>" (see docs/http-api.md)');
      return;
    }
    if (auth.kind === 'session' && !SAFE_METHODS.has(req.method)) {
      const given = req.headers[CSRF_HEADER];
      if (typeof given !== 'string' || !secretsEqual(given, auth.session.csrfToken)) {
        sendError(res, 403, 'csrf-token-missing', `a browser session must send its CSRF token in the ${CSRF_HEADER} header for ${req.method} requests`);
        return;
      }
    }
    res.locals.auth = auth;
    next();
  };
}

/** A local path to return to after login (never another site: no scheme, no `//`). */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.length > 2000) return '/';
  return next;
}

/** Set-Cookie value of a session (or of its removal, with maxAge 0). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}
