/**
 * Child process of the retrieval benchmark: retrieves the series named in BENCH_SERIES (JSON
 * [[study, series], ...]) into HU volumes, all at once, and prints its peak RSS as JSON. A
 * process of its own, so that nothing else in the benchmark counts in its RSS.
 */
import { createDicomWebClient } from '../src/dicomweb/client';
import { retrieveSeriesVolume } from '../src/study/retrieveVolume';

async function main(): Promise<void> {
  const series = JSON.parse(process.env.BENCH_SERIES ?? '[]') as Array<[string, string]>;
  const client = createDicomWebClient({
    dicomWebUrl: process.env.BENCH_DICOMWEB_URL,
    username: process.env.BENCH_USERNAME,
    password: process.env.BENCH_PASSWORD,
    retrieveConcurrency: series.length,
  });
  const rssBeforeBytes = process.memoryUsage().rss;
  const started = Date.now();
  const volumes = await Promise.all(series.map(([study, s]) => retrieveSeriesVolume(client, study, s)));
  const ms = Date.now() - started;
  const huBytes = volumes.reduce((sum, v) => sum + v.volume.data.byteLength, 0);
  client.close();
  // resourceUsage().maxRSS is in kilobytes (getrusage ru_maxrss).
  console.log(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, rssBeforeBytes, huBytes, ms }));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
