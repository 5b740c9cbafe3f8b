/**
 * Which PostgreSQL failures are the database being away (retried like any transient trouble) and
 * which are not (src/jobs/postgresSql.ts, asStoreError).
 */
import { expect } from 'chai';
import { isRetryable } from '../../../src/errors';
import { asStoreError } from '../../../src/jobs/postgresSql';
import { decideOnFailure } from '../../../src/jobs/retryPolicy';

const withCode = (message: string, code: string): Error => Object.assign(new Error(message), { code });

describe('jobs/postgresSql: asStoreError', () => {
  it('the database away, restarting, unreachable or out of connections: retryable, saying so', () => {
    const away = [
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')]),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('sorry, too many clients already', '53300'),
      withCode('could not serialize access', '40001'),
    ];
    for (const err of away) {
      const mapped = asStoreError(err) as Error;
      expect(isRetryable(mapped), err.message).to.equal(true);
      expect(mapped.message).to.match(/^the job store's database does not answer: /);
      expect((mapped as { cause?: unknown }).cause).to.equal(err);
    }
    expect(asStoreError(away[1])).to.have.property('message').that.contains('::1:5432').and.contains('127.0.0.1:5432');
  });

  it('a defect or a refusal by the database stays what it is', () => {
    for (const err of [withCode('duplicate key value violates unique constraint', '23505'), withCode('cannot execute UPDATE in a read-only transaction', '25006'), new TypeError('x is undefined')]) {
      expect(asStoreError(err)).to.equal(err);
    }
  });

  it('a job whose attempt failed on the database is retried, not dead-lettered', () => {
    const decision = decideOnFailure(asStoreError(new Error('Connection terminated unexpectedly')), 1, { maxAttempts: 5, retryBaseDelayMs: 100, retryMaxDelayMs: 1000 }, new Date());
    expect(decision.action).to.equal('retry');
  });
});
