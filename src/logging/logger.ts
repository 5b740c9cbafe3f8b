/**
 * Structured JSON logging, one object per line on stderr (stdout stays free for command output
 * such as `tsr-node inspect`).
 *
 * Privacy: patient-identifying fields must never reach a log. Callers pass StudyInstanceUIDs and
 * job ids only; as a second line of defence, any field whose key names a patient attribute is
 * replaced by "[redacted]", at any depth.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys that would carry patient identity (DICOM keywords and common spellings). */
const PATIENT_KEY = /^(patient[_-]?(name|id|birth[_-]?date|address|telephone)|otherpatient|00100010|00100020|00100030|patientsname)/i;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (e.g. `{ jobId, studyInstanceUID }`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to process.stderr. Tests pass their own sink. */
  write?: (line: string) => void;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

export function redactPatientFields(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    return { name: value.name, message: value.message, ...(value as unknown as LogFields) };
  }
  if (Array.isArray(value)) return value.map((v) => redactPatientFields(v, depth + 1));
  const out: LogFields = {};
  for (const [k, v] of Object.entries(value as LogFields)) {
    out[k] = PATIENT_KEY.test(k) ? '[redacted]' : redactPatientFields(v, depth + 1);
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const minLevel = LEVEL_ORDER[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_ORDER[level] < minLevel) return;
    const merged = redactPatientFields({ ...bound, ...fields }) as LogFields;
    if (merged.err instanceof Error || (fields?.err instanceof Error)) {
      const e = fields?.err as Error;
      merged.err = { name: e.name, message: e.message, code: (e as { code?: unknown }).code };
    }
    write(JSON.stringify({ time: now().toISOString(), level, msg, ...merged }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

/** A logger that drops everything; for library calls where the caller did not pass one. */
export const silentLogger: Logger = createLogger({ write: () => undefined });
