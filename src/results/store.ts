/**
 * Storing the results idempotently: ask the PACS with QIDO-RS which of the result instances it
 * already has (their UIDs are deterministic, see uids.ts), then send the missing ones in one
 * STOW-RS request for the study (PS3.18 10.5), and read the response.
 *
 * A partial failure is a failure, with the reason of each refused instance. Whether trying again
 * can help decides the error type: only "out of resources" (A7xx, PS3.4 B.2.3) may pass; anything
 * else (the PACS does not understand or accept the object) is permanent. Instances that were stored
 * are not sent again on the next attempt: the QIDO check finds them.
 */
import { TAG } from '../dicom/dictionary';
import type { DicomWebClient, StowFailed, StowResult } from '../dicomweb/types';
import { describeStatusCode } from '../dicomweb/stow';
import { PermanentError, TransientError } from '../errors';
import { silentLogger, type Logger } from '../logging/logger';
import type { ResultObject } from './resultObjects';

export interface StoreOutcome {
  /** SOP Instance UIDs sent and stored now. */
  stored: string[];
  /** SOP Instance UIDs the PACS already had (nothing sent for them). */
  alreadyPresent: string[];
  /** Instances stored with a warning (WarningReason, e.g. B000 coercion of data elements). */
  warnings: Array<{ sopInstanceUID?: string; warningReason: number }>;
}

/** Failure reasons after which the same request may succeed later: A7xx "Refused: out of resources". */
export function isTransientFailureReason(reason: number | undefined): boolean {
  return reason !== undefined && reason >= 0xa700 && reason <= 0xa7ff;
}

/** The SOP Instance UIDs among `objects` that the PACS already has, by QIDO-RS per result series. */
export async function findStoredResults(client: DicomWebClient, studyInstanceUID: string, objects: ResultObject[]): Promise<Set<string>> {
  const found = new Set<string>();
  const series = [...new Set(objects.map((o) => o.seriesInstanceUID))];
  // One query per result series, all at once (the client's semaphore bounds them).
  for (const instances of await Promise.all(series.map((s) => client.searchInstances(studyInstanceUID, s, [TAG.sopInstanceUID])))) {
    for (const instance of instances) {
      const uid = instance[TAG.sopInstanceUID]?.Value?.[0];
      if (typeof uid === 'string') found.add(uid);
    }
  }
  return found;
}

function stowResultOf(err: unknown): StowResult | undefined {
  const cause = (err as { cause?: { stow?: StowResult } } | null)?.cause;
  return cause?.stow;
}

function describeFailures(failed: StowFailed[], objects: ResultObject[]): string {
  return failed
    .map((f) => {
      const role = objects.find((o) => o.sopInstanceUID === f.sopInstanceUID)?.role.toUpperCase() ?? 'instance';
      return `${role} ${f.sopInstanceUID ?? '(unknown)'}: ${f.failureReason === undefined ? 'no reason given' : describeStatusCode(f.failureReason)}`;
    })
    .join('; ');
}

export async function storeResults(client: DicomWebClient, studyInstanceUID: string, objects: ResultObject[], logger: Logger = silentLogger): Promise<StoreOutcome> {
  const present = await findStoredResults(client, studyInstanceUID, objects);
  const toSend = objects.filter((o) => !present.has(o.sopInstanceUID));
  const alreadyPresent = objects.filter((o) => present.has(o.sopInstanceUID)).map((o) => o.sopInstanceUID);
  if (toSend.length === 0) {
    logger.info('results already in the PACS; nothing sent', { studyInstanceUID, alreadyPresent });
    return { stored: [], alreadyPresent, warnings: [] };
  }

  let result: StowResult;
  try {
    result = await client.store(
      toSend.map((o) => o.part10),
      studyInstanceUID,
    );
  } catch (err) {
    const stow = stowResultOf(err);
    if (!stow) throw err; // transport trouble: the client typed it already (TransientError / PermanentError)
    const storedNow = stow.referenced.map((r) => r.sopInstanceUID).filter((u): u is string => u !== undefined);
    const reasons = stow.failed.length > 0 ? describeFailures(stow.failed, toSend) : (err as Error).message;
    const message = `STOW-RS of the results of study ${studyInstanceUID} failed in part: ${reasons}` + (storedNow.length > 0 ? ` (stored: ${storedNow.join(', ')})` : '');
    logger.warn('results store failed', { studyInstanceUID, httpStatus: stow.httpStatus, failed: stow.failed, stored: storedNow });
    const retryable = stow.failed.length > 0 && stow.failed.every((f) => isTransientFailureReason(f.failureReason));
    throw retryable ? new TransientError(message, err) : new PermanentError(message, err);
  }

  const warnings = result.referenced
    .filter((r) => r.warningReason !== undefined)
    .map((r) => ({ ...(r.sopInstanceUID ? { sopInstanceUID: r.sopInstanceUID } : {}), warningReason: r.warningReason! }));
  if (result.warningReason !== undefined && warnings.length === 0) warnings.push({ warningReason: result.warningReason });
  const stored = toSend.map((o) => o.sopInstanceUID);
  logger.info('results stored', { studyInstanceUID, stored, alreadyPresent, warnings: warnings.map((w) => describeStatusCode(w.warningReason)) });
  return { stored, alreadyPresent, warnings };
}
