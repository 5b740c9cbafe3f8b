/**
 * Runs the change feed in its own process, so a test can kill it with SIGKILL in the middle of
 * a poll and restart it. Run with:
 *   node --require tsx/cjs test/harness/changeFeedChild.ts DB_FILE PAGE_SIZE
 * and ORTHANC_URL, ORTHANC_USERNAME, ORTHANC_PASSWORD in the environment. Logs JSON lines on
 * stderr (the feed's own log); prints "poll done" on stdout when a whole poll has finished.
 * PAGE_DELAY_MS (optional) slows each /changes page down, so the parent can kill mid-feed.
 */
import { createDicomWebClient } from '../../src/dicomweb/client';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { createLogger } from '../../src/logging/logger';
import { ChangeFeed } from '../../src/orthanc/changeFeed';
import { StudyIntake } from '../../src/orthanc/intake';
import { OrthancRestClient, type OrthancChangesPage } from '../../src/orthanc/orthancRest';

class SlowOrthancRestClient extends OrthancRestClient {
  override async getChanges(since: number, limit: number): Promise<OrthancChangesPage> {
    await new Promise((r) => setTimeout(r, Number(process.env.PAGE_DELAY_MS ?? 0)));
    return super.getChanges(since, limit);
  }
}

async function main(): Promise<void> {
  const [file, pageSize] = process.argv.slice(2);
  const connection = { url: process.env.ORTHANC_URL ?? '', username: process.env.ORTHANC_USERNAME, password: process.env.ORTHANC_PASSWORD };
  const logger = createLogger({ level: 'info' });
  const store = new SqliteJobStore({ path: file });
  const orthanc = new SlowOrthancRestClient(connection, { logger });
  const dicomWeb = createDicomWebClient(connection, { logger });
  const intake = new StudyIntake({ store, orthanc, dicomWeb, logger });
  const feed = new ChangeFeed({ store, orthanc, intake, pollSchedule: '* * * * * *', pageSize: Number(pageSize), logger });
  await feed.poll();
  console.log('poll done');
  orthanc.close();
  dicomWeb.close();
  await store.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
