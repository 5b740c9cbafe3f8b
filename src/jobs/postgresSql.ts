/**
 * How the PostgreSQL job store talks to its database: a small pool whose rows come back as the
 * store wants them (bigint as number, jsonb as text), SQL with named parameters (`@owner`), and
 * one clock for a whole operation.
 *
 * The clock. `@now` in the SQL is the database server's `now()` (the start of the transaction),
 * which is what production uses: every node on the database agrees on who holds a lease, whatever
 * its own clock says. Tests that drive time pass a clock (`now` option); then `@now` becomes a
 * parameter with that clock's time, read once per operation.
 */
import { Pool, types, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import { TransientError } from '../errors';

const INT8 = 20;
const JSON_OID = 114;
const JSONB = 3802;

/** How a result column of type `oid` (text format, pg's default) is read. */
function parserFor(oid: number): (value: string) => unknown {
  if (oid === INT8) return Number;
  if (oid === JSONB || oid === JSON_OID) return (value) => value;
  return types.getTypeParser(oid, 'text') as (value: string) => unknown;
}

/** Per pool, not global: other users of `pg` in the process keep pg's own parsing. */
const rowTypes = { getTypeParser: parserFor as typeof types.getTypeParser };

export function openPool(config: PoolConfig): Pool {
  // TCP keepalive, so that a connection to a database that vanished (a failover, a cut link) is noticed.
  const pool = new Pool({ max: 4, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000, keepAlive: true, application_name: 'tsr-node', ...config, types: rowTypes });
  // An idle connection that the server drops (restart, failover) must not crash the node: the pool
  // forgets it, and the next operation opens a new one (or fails, and says why).
  pool.on('error', () => undefined);
  return pool;
}

/**
 * SQLSTATE codes after which the same work may succeed later: connection exceptions (class 08),
 * insufficient resources (53), the server shutting down or starting (57P01-57P03), a
 * serialization failure or deadlock (40001, 40P01).
 */
const TRANSIENT_SQLSTATE = /^(08|53|57P0[1-3]|40001|40P01)/;

/** pg's and Node's words for a connection that failed, broke or timed out (no SQLSTATE then). */
const CONNECTION_FAILURE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|Connection terminated|connection error|timeout exceeded when trying to connect|not queryable/i;

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describe).join('; ');
  if (err instanceof Error) return err.message || ((err as NodeJS.ErrnoException).code ?? err.name);
  return String(err);
}

/**
 * The database is away or busy (down, restarting, unreachable, out of connections): a
 * TransientError, so that a job that failed on it is retried, never dead-lettered as a defect.
 * Anything else (a constraint, a syntax error) is returned as it is.
 */
export function asStoreError(err: unknown): unknown {
  if (err instanceof TransientError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const text = `${typeof code === 'string' ? code : ''} ${describe(err)}`;
  const transient = sqlState !== undefined ? TRANSIENT_SQLSTATE.test(sqlState) : CONNECTION_FAILURE.test(text);
  return transient ? new TransientError(`the job store's database does not answer: ${describe(err)}`, err) : err;
}

/** `text` with `@name` turned into `$n` (the same name, the same `$n`), and `@now` into the operation's clock. */
export function bindNamed(text: string, values: Record<string, unknown>, now: Date | undefined): { text: string; values: unknown[] } {
  const params: unknown[] = [];
  const positions = new Map<string, number>();
  const bound = text.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_match, name: string) => {
    if (name === 'now' && now === undefined) return 'now()';
    if (name !== 'now' && !(name in values)) throw new Error(`SQL parameter @${name} has no value`);
    let position = positions.get(name);
    if (position === undefined) {
      const value = name === 'now' ? now : values[name];
      params.push(value === undefined ? null : value);
      position = params.length;
      positions.set(name, position);
    }
    return name === 'now' ? `$${position}::timestamptz` : `$${position}`;
  });
  return { text: bound, values: params };
}

/** One operation on the database: its queries share one clock reading (tests) or the transaction's now() (production). */
export interface Operation {
  rows<T extends QueryResultRow>(text: string, values?: Record<string, unknown>): Promise<T[]>;
  /** Rows changed. */
  run(text: string, values?: Record<string, unknown>): Promise<number>;
}

function operationOn(target: Pool | PoolClient, now: Date | undefined): Operation {
  const query = <T extends QueryResultRow>(text: string, values: Record<string, unknown> = {}) => {
    const bound = bindNamed(text, values, now);
    return target.query<T>(bound.text, bound.values).catch((err: unknown) => {
      throw asStoreError(err);
    });
  };
  return {
    rows: async <T extends QueryResultRow>(text: string, values?: Record<string, unknown>) => (await query<T>(text, values)).rows,
    run: async (text, values) => (await query(text, values)).rowCount ?? 0,
  };
}

/** Runs single statements (each its own transaction) and multi-statement transactions on a pool. */
export class PgDatabase {
  constructor(
    readonly pool: Pool,
    private readonly clock: (() => Date) | undefined,
  ) {}

  /** For one statement: PostgreSQL runs it as a transaction of its own. */
  statement(): Operation {
    return operationOn(this.pool, this.clock?.());
  }

  /** BEGIN ... COMMIT on one connection; ROLLBACK when `work` throws. */
  async transaction<T>(work: (op: Operation, client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(operationOn(client, this.clock?.()), client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw asStoreError(err);
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: the pool closes it.
      client.release(broken);
    }
  }

  /** BEGIN ... ROLLBACK: runs `work` and keeps nothing of it (a readiness probe). */
  /** A connection from the pool; a TransientError when the database does not answer. */
  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw asStoreError(err);
    }
  }

  async rolledBack(work: (op: Operation) => Promise<void>): Promise<void> {
    const client = await this.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await work(operationOn(client, this.clock?.()));
    } finally {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      client.release(broken);
    }
  }
}
