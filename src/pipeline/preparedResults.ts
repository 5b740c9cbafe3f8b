/**
 * Results prepared ahead of StableStudy (prepareAhead.ts), kept until the study's job takes them.
 *
 * An entry is the outcome of the whole pipeline but the store (selection, analysis, the SR and SC
 * bytes; never the HU volumes), for one StudyInstanceUID, with the content fingerprint it was
 * made from (the same before and after the preparation) and the preparation key (models and
 * settings). A job may use an entry only when all three match its own: the job's fingerprint is
 * the content Orthanc called stable, so no result is ever written for other content.
 *
 * Bounded: one entry per study (a newer preparation replaces an older one), at most `maxEntries`
 * studies (the oldest goes first), each for at most `ttlMs`. Pure apart from the injected clock.
 */
import { createHash } from 'node:crypto';
import { modelSetIdentities } from '../inference/modelSet';
import type { StudyPipeline, StudyPipelineResult } from './analyseStudy';

export interface PreparedResult {
  studyInstanceUID: string;
  /** Content fingerprint read before the preparation began and again after it ended (equal). */
  fingerprint: string;
  /** preparationKey() of the pipeline that made it. */
  preparationKey: string;
  /** The pipeline's result with storing off. */
  result: StudyPipelineResult;
  /** When the preparation ended (ms since the epoch, from the cache's clock). */
  preparedAt: number;
  /** Wall time of the preparation, fingerprint reads included, in ms. */
  preparedMs: number;
  /** The pipeline's stage timings during the preparation, in ms. */
  stagesMs: Record<string, number>;
}

/** Why an entry was dropped without being used. */
export type DiscardReason = 'content-changed' | 'other-models-or-settings' | 'replaced' | 'evicted' | 'expired';

export const DISCARD_REASONS: Record<DiscardReason, string> = {
  'content-changed': "the study's content is not the one that was prepared",
  'other-models-or-settings': 'prepared with other models or selection/result settings',
  replaced: 'replaced by a newer preparation of the same study',
  evicted: 'evicted: too many prepared studies waiting',
  expired: 'not claimed by a job in time',
};

export interface Discarded {
  entry: PreparedResult;
  reason: DiscardReason;
}

export interface TakeResult {
  /** The entry the job may use; absent when none matched. */
  entry?: PreparedResult;
  /** The study's entry, when there was one and it did not match. */
  discarded?: Discarded;
}

export interface PreparedResultCacheOptions {
  /** Studies kept at once; default 2. */
  maxEntries?: number;
  /** How long an entry waits for its job, in ms; default 10 min. */
  ttlMs?: number;
  now?: () => number;
}

/**
 * What must be equal for a prepared result to stand for the one the job would make: every model
 * of the set (by role and sha256), the selection rules and the result settings (descriptions, device). Storing on or
 * off is not part of it: the preparation never stores.
 */
export function preparationKey(pipeline: Pick<StudyPipeline, 'models' | 'rules' | 'results'>): string {
  const { store: _store, ...results } = pipeline.results;
  const key = JSON.stringify({
    models: modelSetIdentities(pipeline.models).map((model) => `${model.role}:${model.sha256}`),
    rules: pipeline.rules,
    results,
  });
  return createHash('sha256').update(key).digest('hex');
}

export class PreparedResultCache {
  private readonly entries = new Map<string, PreparedResult>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: PreparedResultCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 2;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    if (!(this.ttlMs > 0)) throw new RangeError('ttlMs must be positive');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether this exact content is already prepared (and not expired) under this key. */
  has(studyInstanceUID: string, fingerprint: string, key: string): boolean {
    const e = this.entries.get(studyInstanceUID);
    return e !== undefined && e.fingerprint === fingerprint && e.preparationKey === key && !this.isExpired(e);
  }

  /** Keeps an entry; returns what it pushed out (the same study's older entry, the oldest study, expired ones). */
  put(entry: PreparedResult): Discarded[] {
    const out = this.expire();
    const previous = this.entries.get(entry.studyInstanceUID);
    if (previous) {
      this.entries.delete(entry.studyInstanceUID);
      out.push({ entry: previous, reason: 'replaced' });
    }
    this.entries.set(entry.studyInstanceUID, entry);
    while (this.entries.size > this.maxEntries) {
      const [oldest] = [...this.entries.values()].sort((a, b) => a.preparedAt - b.preparedAt);
      this.entries.delete(oldest.studyInstanceUID);
      out.push({ entry: oldest, reason: 'evicted' });
    }
    return out;
  }

  /**
   * Removes the study's entry and hands it over when it matches the job's content and key;
   * otherwise reports it as discarded. Either way the study has no entry afterwards.
   */
  take(studyInstanceUID: string, fingerprint: string, key: string): TakeResult {
    const e = this.entries.get(studyInstanceUID);
    if (!e) return {};
    this.entries.delete(studyInstanceUID);
    if (this.isExpired(e)) return { discarded: { entry: e, reason: 'expired' } };
    if (e.preparationKey !== key) return { discarded: { entry: e, reason: 'other-models-or-settings' } };
    if (e.fingerprint !== fingerprint) return { discarded: { entry: e, reason: 'content-changed' } };
    return { entry: e };
  }

  /** Drops entries older than the TTL and returns them. */
  expire(): Discarded[] {
    const out: Discarded[] = [];
    for (const [uid, e] of this.entries) {
      if (this.isExpired(e)) {
        this.entries.delete(uid);
        out.push({ entry: e, reason: 'expired' });
      }
    }
    return out;
  }

  /** Drops everything (shutdown). */
  clear(): void {
    this.entries.clear();
  }

  private isExpired(e: PreparedResult): boolean {
    return this.now() - e.preparedAt >= this.ttlMs;
  }
}
