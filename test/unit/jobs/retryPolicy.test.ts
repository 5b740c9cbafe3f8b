import { expect } from 'chai';
import { decideOnFailure, exhaustedBeforeStart, jobRetryDelayMs, type RetryPolicyConfig } from '../../../src/jobs/retryPolicy';
import { AnalysisRefusedError, PermanentError, TransientError } from '../../../src/errors';

const config: RetryPolicyConfig = { maxAttempts: 4, retryBaseDelayMs: 10_000, retryMaxDelayMs: 60_000 };
const now = new Date('2024-05-01T08:00:00Z');

describe('jobs/retryPolicy: what a failed attempt leads to', () => {
  const delays: Array<[number, number, string]> = [
    [1, 10_000, 'first retry after the base delay'],
    [2, 20_000, 'doubles'],
    [3, 40_000, 'doubles again'],
    [4, 60_000, 'capped at retryMaxDelayMs'],
    [40, 60_000, 'still capped, no overflow'],
  ];
  for (const [attempts, ms, why] of delays) {
    it(`delay after ${attempts} attempt(s): ${ms} ms (${why})`, () => expect(jobRetryDelayMs(attempts, config)).to.equal(ms));
  }

  // Each row: error, attempts so far, expected action and code, why.
  const rows: Array<[unknown, number, string, string, string]> = [
    [new AnalysisRefusedError('single-phase', 'only venous'), 1, 'skip', 'single-phase', 'input that cannot be analysed is skipped with its own code'],
    [new AnalysisRefusedError('single-phase', 'only venous'), 4, 'skip', 'single-phase', 'skipping does not depend on attempts'],
    [new TransientError('HTTP 503'), 1, 'retry', 'transient-error', 'PACS trouble is retried'],
    [new TransientError('HTTP 503'), 3, 'retry', 'transient-error', 'still below maxAttempts'],
    [new TransientError('HTTP 503'), 4, 'dead-letter', 'attempts-exhausted', 'the last allowed attempt failed'],
    [new PermanentError('HTTP 401'), 1, 'dead-letter', 'permanent-error', 'bad credentials do not heal'],
    [new TypeError('x is undefined'), 1, 'dead-letter', 'internal-error', 'a defect is shown, not retried in a loop'],
    [{ name: 'TransientError', message: 'reset', retryable: true }, 1, 'retry', 'transient-error', 'recognised by name and flag across process boundaries'],
    [{ name: 'AnalysisRefusedError', code: 'not-ct', message: 'MR' }, 1, 'skip', 'not-ct', 'a refusal as a plain object'],
    ['a string was thrown', 1, 'dead-letter', 'internal-error', 'even odd throws end somewhere'],
  ];
  for (const [err, attempts, action, code, why] of rows) {
    it(why, () => {
      const decision = decideOnFailure(err, attempts, config, now);
      expect(decision.action).to.equal(action);
      expect(decision.reason.code).to.equal(code);
      if (decision.action === 'retry') expect(decision.notBefore.getTime()).to.equal(now.getTime() + jobRetryDelayMs(attempts, config));
    });
  }

  it('keeps the last error message when attempts are exhausted', () => {
    const decision = decideOnFailure(new TransientError('connect ECONNREFUSED'), 4, config, now);
    expect(decision.reason.message).to.equal('4 attempts; last: connect ECONNREFUSED');
  });

  it('a job claimed more often than allowed (its worker kept dying) is not started again', () => {
    expect(exhaustedBeforeStart(4, config)).to.equal(undefined);
    expect(exhaustedBeforeStart(5, config)?.code).to.equal('attempts-exhausted');
  });
});
