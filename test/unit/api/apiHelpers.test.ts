/**
 * The HTTP API's pure helpers, table-driven: UID validation, loopback detection, cookie parsing,
 * the post-login redirect, constant-time secret comparison, the Prometheus exposition, the token
 * file, and HTML escaping on the status page.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveApiToken, isLoopbackHost } from '../../../src/api/apiToken';
import { parseCookies, safeNextPath, secretsEqual, SessionStore } from '../../../src/api/auth';
import { uidProblem } from '../../../src/api/jobRoutes';
import { escapeLabelValue, NodeMetrics } from '../../../src/api/metrics';
import { escapeHtml, renderStatusPage } from '../../../src/api/statusPage';
import { ConfigError } from '../../../src/errors';

describe('api helpers', () => {
  describe('uidProblem (PS3.5 9.1)', () => {
    const rows: Array<[string, boolean, string]> = [
      ['1.2.840.10008.1.2.1', true, 'a plain UID'],
      ['2.25.329800735698586629295641978511506172918', true, 'a UUID-derived UID (PS3.5 B.2)'],
      ['0', true, 'a single zero component is allowed'],
      ['1.0.2', true, 'a zero component is allowed'],
      ['1.02.3', false, 'leading zero in a component'],
      ['1..2', false, 'empty component'],
      ['.1.2', false, 'leading dot'],
      ['1.2.', false, 'trailing dot'],
      ['1.2.abc', false, 'letters'],
      ['1.2 3', false, 'a space'],
      ['', false, 'empty'],
      ['1.' + '2'.repeat(62), true, '64 characters'],
      ['1.' + '2'.repeat(63), false, '65 characters'],
    ];
    for (const [uid, ok, why] of rows) {
      it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(uid.length > 30 ? uid.slice(0, 30) + '…' : uid)}: ${why}`, () => {
        expect(uidProblem(uid) === undefined).to.equal(ok);
      });
    }
  });

  describe('isLoopbackHost', () => {
    const rows: Array<[string, boolean, string]> = [
      ['127.0.0.1', true, 'IPv4 loopback'],
      ['127.1.2.3', true, 'all of 127/8 is loopback'],
      ['localhost', true, 'the name'],
      ['::1', true, 'IPv6 loopback'],
      ['[::1]', true, 'bracketed IPv6'],
      ['::ffff:127.0.0.1', true, 'IPv4-mapped loopback'],
      ['0.0.0.0', false, 'every interface'],
      ['::', false, 'every IPv6 interface'],
      ['192.168.1.10', false, 'a LAN address'],
      ['tsr-node.example.org', false, 'a host name'],
    ];
    for (const [host, loopback, why] of rows) it(`${host}: ${why}`, () => expect(isLoopbackHost(host)).to.equal(loopback));
  });

  describe('resolveApiToken', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-token-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('uses a configured token as is', () => {
      expect(resolveApiToken({ token: 'a'.repeat(20), host: '0.0.0.0', dataDir: dir })).to.deep.equal({ token: 'a'.repeat(20), source: 'config' });
    });
    it('refuses a non-loopback host without a token', () => {
      expect(() => resolveApiToken({ host: '0.0.0.0', dataDir: dir })).to.throw(ConfigError, /api\.token/);
    });
    it('generates a token once on loopback (mode 0600) and reads the same one back', () => {
      const first = resolveApiToken({ host: '127.0.0.1', dataDir: dir });
      expect(first.source).to.equal('generated');
      expect(first.token).to.match(/^[0-9a-f]{64}$/);
      expect(statSync(first.file!).mode & 0o777).to.equal(0o600);
      const second = resolveApiToken({ host: '127.0.0.1', dataDir: dir });
      expect(second).to.deep.equal({ token: first.token, file: first.file, source: 'token-file' });
    });
    it('refuses a token file with a short token', () => {
      writeFileSync(path.join(dir, 'api-token'), 'short\n');
      expect(() => resolveApiToken({ host: '127.0.0.1', dataDir: dir })).to.throw(ConfigError, /shorter than 16/);
      expect(readFileSync(path.join(dir, 'api-token'), 'utf8')).to.equal('short\n');
    });
  });

  describe('auth', () => {
    it('compares secrets of any length', () => {
      expect(secretsEqual('abc', 'abc')).to.be.true;
      expect(secretsEqual('abc', 'abd')).to.be.false;
      expect(secretsEqual('abc', 'abcd')).to.be.false;
      expect(secretsEqual('', 'x')).to.be.false;
    });

    it('parses cookies, keeping the first of a repeated name', () => {
      expect(parseCookies('a=1; tsr_session=x%2By; a=2; broken')).to.deep.equal({ a: '1', tsr_session: 'x+y' });
      expect(parseCookies(undefined)).to.deep.equal({});
    });

    const nexts: Array<[unknown, string, string]> = [
      ['/viewer?StudyInstanceUIDs=1.2.3', '/viewer?StudyInstanceUIDs=1.2.3', 'a local path'],
      ['//evil.example/x', '/', 'protocol-relative URL to another site'],
      ['/\\evil.example', '/', 'backslash trick some browsers read as //'],
      ['https://evil.example/', '/', 'absolute URL'],
      [undefined, '/', 'absent'],
      [['/a'], '/', 'not a string'],
    ];
    for (const [next, expected, why] of nexts) it(`next ${JSON.stringify(next)} -> ${expected}: ${why}`, () => expect(safeNextPath(next)).to.equal(expected));

    it('expires sessions', () => {
      let now = 1000;
      const sessions = new SessionStore(60_000, () => now);
      const s = sessions.create();
      expect(sessions.get(s.id)?.csrfToken).to.equal(s.csrfToken);
      now += 60_001;
      expect(sessions.get(s.id)).to.equal(undefined);
    });
  });

  describe('Prometheus exposition', () => {
    it('escapes label values', () => {
      expect(escapeLabelValue('a"b\\c\nd')).to.equal('a\\"b\\\\c\\nd');
    });

    it('writes cumulative histogram buckets with +Inf, sum and count', () => {
      const m = new NodeMetrics('9.9.9');
      m.stage('retrieve', 30); // 0.03 s
      m.stage('retrieve', 700); // 0.7 s
      m.addBytesRetrieved(1234);
      m.attemptEnded('done', 1500);
      const text = m.render({ jobsByState: { queued: 2, running: 1, done: 3, skipped: 0, failed: 1 }, changeCursor: 77 });
      const sample = (line: string): string | undefined => text.split('\n').find((l) => l.startsWith(line + ' '))?.slice(line.length + 1);
      expect(sample('tsr_stage_duration_seconds_bucket{stage="retrieve",le="0.025"}')).to.equal('0');
      expect(sample('tsr_stage_duration_seconds_bucket{stage="retrieve",le="0.05"}')).to.equal('1');
      expect(sample('tsr_stage_duration_seconds_bucket{stage="retrieve",le="1"}')).to.equal('2');
      expect(sample('tsr_stage_duration_seconds_bucket{stage="retrieve",le="+Inf"}')).to.equal('2');
      expect(Number(sample('tsr_stage_duration_seconds_sum{stage="retrieve"}'))).to.be.closeTo(0.73, 1e-9);
      expect(sample('tsr_stage_duration_seconds_count{stage="retrieve"}')).to.equal('2');
      expect(sample('tsr_queue_depth')).to.equal('2');
      expect(sample('tsr_jobs{state="failed"}')).to.equal('1');
      expect(sample('tsr_change_cursor')).to.equal('77');
      expect(sample('tsr_retrieved_bytes_total')).to.equal('1234');
      expect(sample('tsr_job_attempts_total{result="done"}')).to.equal('1');
      expect(sample('tsr_build_info{version="9.9.9"}')).to.equal('1');
      // Every family is announced once, before its samples.
      const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
      expect(new Set(types).size).to.equal(types.length);
    });
  });

  describe('status page', () => {
    it('escapes what it shows', () => {
      expect(escapeHtml('<script>"&\'')).to.equal('&lt;script&gt;&quot;&amp;&#39;');
      const html = renderStatusPage({
        version: '1',
        counts: { queued: 0, running: 0, done: 0, skipped: 1, failed: 0 },
        readiness: { ready: true, checks: { orthanc: { ok: true, detail: 'x', ms: 1 }, models: { ok: true, detail: 'y', ms: 1 }, store: { ok: true, detail: 'z', ms: 1 } } },
        jobs: [
          {
            id: 1,
            studyInstanceUID: '1.2.3',
            fingerprint: 'f',
            source: 'manual',
            state: 'skipped',
            attempts: 1,
            createdAt: '2025-01-01T00:00:00.000Z',
            updatedAt: '2025-01-01T00:00:00.000Z',
            reason: { code: 'single-phase', message: 'only "<img src=x onerror=alert(1)>"' },
          },
        ],
        events: [],
        csrfToken: 'c"srf',
        viewerUrl: () => undefined,
        changeCursor: 0,
        feedMode: 'poll',
        models: [],
      });
      expect(html).to.not.contain('<img src=x');
      expect(html).to.contain('&lt;img src=x onerror=alert(1)&gt;');
      expect(html).to.contain('content="c&quot;srf"');
    });

    it('says what the node waits for, and since when, only while it waits', () => {
      const data = {
        version: '1',
        counts: { queued: 1, running: 0, done: 0, skipped: 0, failed: 0 },
        readiness: { ready: false, checks: { orthanc: { ok: false, detail: 'refused', ms: 1 }, models: { ok: true, detail: 'y', ms: 1 }, store: { ok: true, detail: 'z', ms: 1 } } },
        jobs: [],
        events: [],
        csrfToken: 'c',
        viewerUrl: (): undefined => undefined,
        changeCursor: 0,
        feedMode: 'poll',
        models: [],
      };
      const waiting = renderStatusPage({ ...data, waitingFor: { name: 'the PACS', since: '2025-01-01T10:00:00.000Z', message: 'connect ECONNREFUSED <127.0.0.1>' } });
      expect(waiting).to.match(/<section class="waiting"[^>]*>\s*<h2>Waiting for the PACS since /);
      expect(waiting).to.contain('connect ECONNREFUSED &lt;127.0.0.1&gt;').and.contain('resumes by itself');
      expect(renderStatusPage(data)).to.not.contain('class="waiting"');
    });

    it('lists the nodes: which follows the feed, each one\'s running jobs, live / not heard from / stopped', () => {
      const base = { bootId: 'b', host: 'h', version: '1', startedAt: '2025-01-01T10:00:00.000Z', lastHeartbeatAt: '2025-01-01T10:05:00.000Z' };
      const html = renderStatusPage({
        version: '1',
        counts: { queued: 0, running: 3, done: 0, skipped: 0, failed: 0 },
        readiness: { ready: true, checks: { orthanc: { ok: true, detail: 'x', ms: 1 }, models: { ok: true, detail: 'y', ms: 1 }, store: { ok: true, detail: 'z', ms: 1 } } },
        jobs: [],
        events: [],
        csrfToken: 'c',
        viewerUrl: () => undefined,
        changeCursor: 0,
        feedMode: 'poll',
        models: [],
        nodeId: 'node-b',
        nodes: [
          { ...base, nodeId: 'node-a', live: true, followsFeed: true, runningJobIds: [7, 9] },
          { ...base, nodeId: 'node-b', live: true, followsFeed: false, runningJobIds: [8] },
          { ...base, nodeId: 'node-c', live: false, followsFeed: false, runningJobIds: [] },
          { ...base, nodeId: 'node-d<', live: false, followsFeed: false, runningJobIds: [], stoppedAt: '2025-01-01T10:06:00.000Z' },
        ],
      });
      const row = (id: string): string => new RegExp(`<tr data-node-id="${id}"[\\s\\S]*?</tr>`).exec(html)?.[0] ?? '';
      expect(row('node-a')).to.contain('follows the feed').and.contain('<a href="/jobs/7">7</a>, <a href="/jobs/9">9</a>').and.contain('live');
      expect(row('node-b')).to.contain('(this node)').and.contain('<a href="/jobs/8">8</a>');
      expect(row('node-b')).to.not.contain('follows the feed');
      expect(row('node-c')).to.contain('not heard from');
      expect(row('node-d&lt;')).to.contain('stopped 2025-01-01 10:06:00Z');
      expect(html.match(/follows the feed/g), 'one follower').to.have.length(1);
    });
  });
});
