/**
 * Command-line argument helpers shared by the `tsr-node` commands. A command throws UsageError for
 * anything the user typed wrong; main.ts prints it with the command's usage and exits 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** node:util parseArgs (strict), with its errors turned into UsageError. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    // strict (unknown options are errors) is parseArgs' default; callers do not turn it off.
    return parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** An integer option: undefined when absent (or `fallback` when given); UsageError when malformed or below `min`. */
export function integerOption(name: string, value: string | undefined, min: number): number | undefined;
export function integerOption(name: string, value: string | undefined, min: number, fallback: number): number;
export function integerOption(name: string, value: string | undefined, min: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return Number(value);
}

/** An option restricted to a set of words: undefined when absent; UsageError otherwise. */
export function choiceOption<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** The one positional StudyInstanceUID of `analyze` and `inspect` (PS3.5 9.1: digits and dots, at most 64 characters). */
export function studyUidArgument(positionals: string[]): string {
  const [uid, ...extra] = positionals;
  if (uid === undefined || extra.length > 0 || !/^[0-9]+(\.[0-9]+)*$/.test(uid) || uid.length > 64) {
    throw new UsageError('expected one StudyInstanceUID (digits and dots, at most 64 characters)');
  }
  return uid;
}
