import { expect } from 'chai';
import { classifyConnectionError, isRetryableStatus, requestBackoffMs } from '../../../src/dicomweb/requestRetry';

describe('dicomweb/requestRetry: which requests are tried again, and when', () => {
  const backoff: Array<[number, number, number, string]> = [
    [0, 250, 0, 'no failure yet, no wait'],
    [1, 250, 250, 'first retry waits the base'],
    [2, 250, 500, 'then doubles'],
    [4, 250, 2000, 'and doubles again'],
    [20, 250, 30_000, 'capped at 30 s'],
  ];
  for (const [attempt, base, expected, why] of backoff) {
    it(`backoff after ${attempt} failure(s), base ${base}: ${expected} ms (${why})`, () => expect(requestBackoffMs(attempt, base)).to.equal(expected));
  }

  const statuses: Array<[number, boolean, string]> = [
    [500, true, 'server error'],
    [503, true, 'unavailable'],
    [504, true, 'gateway timeout'],
    [400, false, 'our request is wrong; the same request fails again'],
    [401, false, 'credentials do not improve by waiting'],
    [404, false, 'gone is gone'],
    [429, false, 'not 5xx: left to the job-level retry'],
  ];
  for (const [status, retry, why] of statuses) {
    it(`HTTP ${status} retryable: ${retry} (${why})`, () => expect(isRetryableStatus(status)).to.equal(retry));
  }

  const errors: Array<[unknown, 'transient' | 'permanent', string]> = [
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient', 'PACS down or restarting'],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'transient', 'connection reset (keep-alive race)'],
    [Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), 'transient', 'our inactivity timeout'],
    [Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'permanent', 'TLS trust is configuration'],
    [Object.assign(new Error('Hostname/IP does not match'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'permanent', 'wrong certificate name'],
    [new TypeError('Invalid URL'), 'permanent', 'a bug or bad config, not the network'],
    [null, 'permanent', 'nothing to go on'],
  ];
  for (const [err, expected, why] of errors) {
    it(`${(err as Error | null)?.message ?? String(err)}: ${expected} (${why})`, () => expect(classifyConnectionError(err)).to.equal(expected));
  }
});
