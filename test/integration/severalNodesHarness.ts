/**
 * Helpers for the tests of several `tsr-node serve` processes on one Orthanc and one PostgreSQL
 * (severalNodes.test.ts, postgresOutage.test.ts): a node's config on the shared database with
 * short leases, and what Orthanc holds of a study besides its CT series (our SR and SC).
 */
import type { Config } from '../../src/config/schema';
import type { OrthancInstance } from '../harness/orthanc';
import { testNodeConfig } from './serveHarness';

/** A node on the shared database: short leases (worker.leaseMs is at least 3000), fast polling. */
export function sharedStoreNodeConfig(orthanc: OrthancInstance, databaseUrl: string, overrides: { feed?: Record<string, unknown>; worker?: Record<string, unknown> } = {}): Config {
  return testNodeConfig(orthanc, {
    logLevel: 'info',
    jobs: { databaseUrl },
    feed: { mode: 'both', leaseMs: 3000, ...overrides.feed },
    worker: { leaseMs: 3000, retryBaseDelayMs: 200, pacsProbeMaxIntervalMs: 1000, stopTimeoutMs: 5000, ...overrides.worker },
  });
}

export interface ResultSeries {
  modality: string;
  sopInstanceUIDs: string[];
}

/** The study's series other than CT (the node's SR and SC), with their instances' SOP Instance UIDs. */
export async function resultSeriesOf(orthanc: OrthancInstance, studyInstanceUID: string): Promise<ResultSeries[]> {
  const found = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', studyInstanceUID);
  if (found.length === 0) return [];
  const series = await orthanc.rest<Array<{ ID: string; MainDicomTags: { Modality?: string } }>>('GET', `/studies/${found[0].ID}/series`);
  const results: ResultSeries[] = [];
  for (const s of series.filter((one) => one.MainDicomTags.Modality !== 'CT')) {
    const instances = await orthanc.rest<Array<{ MainDicomTags: { SOPInstanceUID: string } }>>('GET', `/series/${s.ID}/instances`);
    results.push({ modality: s.MainDicomTags.Modality ?? '', sopInstanceUIDs: instances.map((i) => i.MainDicomTags.SOPInstanceUID) });
  }
  return results;
}

/** Orthanc's id of a study (for the webhook's body). */
export async function orthancStudyIdOf(orthanc: OrthancInstance, studyInstanceUID: string): Promise<string> {
  const found = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', studyInstanceUID);
  return found[0].ID;
}
