/**
 * The node's metrics (src/api/metrics.ts) keep counters and histograms by result, stage, intake
 * source and outcome: never by study or job. The exposition after a backlog of studies has the
 * same series as after one study, only other counts.
 */
import { expect } from 'chai';
import { NodeMetrics, type MetricsSnapshot } from '../../../src/api/metrics';
import { PIPELINE_STAGES } from '../../../src/pipeline/analyseStudy';

const snapshot: MetricsSnapshot = { jobsByState: { queued: 0, running: 0, done: 1, skipped: 0, failed: 0 }, changeCursor: 10, workerActive: 0, workerConcurrency: 1 };

/** What the node reports for one study: every stage, its bytes, its attempt, the webhook, prepare-ahead. */
function oneStudy(metrics: NodeMetrics, i: number): void {
  for (const stage of PIPELINE_STAGES) metrics.stage(stage, 10 + (i % 500));
  metrics.addBytesRetrieved(1_000_000);
  metrics.attemptEnded(i % 7 === 0 ? 'skipped' : 'done', 900 + i);
  metrics.intakeEvent('webhook', i % 5 === 0 ? 'recognised' : 'enqueued');
  metrics.preparedAheadEnded(i % 3 === 0 ? 'discarded' : 'used');
}

const seriesOf = (text: string): string[] => text.split('\n').map((line) => line.replace(/ [^ ]+$/, ''));

describe('api/metrics: series do not grow with the number of studies', () => {
  it('renders the same series after 1000 studies as after the first few', () => {
    const metrics = new NodeMetrics('0.0.0-test');
    for (let i = 0; i < 35; i++) oneStudy(metrics, i); // every result, outcome and stage seen once
    const early = seriesOf(metrics.render(snapshot));
    for (let i = 35; i < 1000; i++) oneStudy(metrics, i);
    const late = metrics.render(snapshot);
    expect(seriesOf(late)).to.deep.equal(early);
    expect(late).to.match(/^tsr_job_attempts_total\{result="done"\} \d+$/m);
  });
});
