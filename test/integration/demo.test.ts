/**
 * `tsr-node demo` end to end, as the README runs it (small study size to stay quick): a private
 * Orthanc, the node, a synthetic study sent with STOW-RS, the SR and SC back in Orthanc, the
 * prediction beside the ground truth, and the viewer link. Then nothing left behind: Orthanc
 * stopped and the temporary folder removed, also after `--keep` and Ctrl-C.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { runCli, sleep, type CliChild } from './serveHarness';

// The shipped demo models (models/), as the README runs it; a small study to stay quick.
const SMALL = ['--columns', '128', '--slices', '40'];

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch {
    return true;
  }
}

function field(output: string, re: RegExp): string {
  const m = re.exec(output);
  if (!m) throw new Error(`${re} not in the demo output:\n${output}`);
  return m[1];
}

async function waitForOutput(child: CliChild, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.output().includes(text)) {
    if (child.child.exitCode !== null) throw new Error(`the demo exited early:\n${child.output()}`);
    if (Date.now() > deadline) throw new Error(`"${text}" not printed within ${timeoutMs} ms:\n${child.output()}`);
    await sleep(100);
  }
}

describe('demo: tsr-node demo end to end (real Orthanc, synthetic study)', function () {
  this.timeout(300_000);
  const children: CliChild[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  });

  it('stores the SR, SC and SEG in Orthanc, prints the prediction beside the ground truth and the viewer link, and leaves nothing behind', async () => {
    const child = runCli(['demo', ...SMALL, '--seed', '11']);
    children.push(child);
    expect(await child.exited, child.output()).to.equal(0);
    const out = child.output();
    expect(out).to.match(/SR, SC and SEG are in Orthanc: 2\.25\.\d+, 2\.25\.\d+, 2\.25\.\d+/);
    const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'models', 'tsr-clip-fusion.json'), 'utf8')) as { threshold: number; version: string };
    expect(out).to.contain(`models tsr-clip-fusion ${shipped.version}`);
    expect(field(out, /Prediction {4}(?:low|high) TSR {3}P\(high TSR\) = 0\.\d{3} \(threshold ([\d.]+)\)/)).to.equal(String(shipped.threshold));
    expect(out).to.match(/Ground truth {2}(low|high) TSR {3}stroma fraction 0\.\d\d/);
    expect(out).to.match(/Viewer {8}http:\/\/127\.0\.0\.1:\d+\/viewer\?StudyInstanceUIDs=2\.25\.\d+/);
    const orthancUrl = field(out, /Orthanc {3}(http:\/\/127\.0\.0\.1:\d+)/);
    const logFile = field(out, /log (\/\S+tsr-node\.log)\)/);
    expect(await refused(`${orthancUrl}/system`), 'Orthanc is stopped').to.be.true;
    expect(existsSync(path.dirname(logFile)), 'the temporary folder is removed').to.be.false;
  });

  it('with --keep, stays up (viewer and proxied DICOMweb behind the login) until Ctrl-C, then stops everything', async () => {
    const child = runCli(['demo', ...SMALL, '--seed', '12', '--keep']);
    children.push(child);
    await waitForOutput(child, 'Press Ctrl-C', 240_000);
    const out = child.output();
    const viewer = field(out, /Viewer {8}(\S+)/);
    const token = field(out, /API token {5}([0-9a-f]+)/);
    const orthancUrl = field(out, /Orthanc {3}(http:\/\/127\.0\.0\.1:\d+)/);
    const studyUid = new URL(viewer).searchParams.get('StudyInstanceUIDs')!;
    const base = new URL(viewer).origin;

    // A browser is sent to the login page first, then back to the viewer.
    const first = await fetch(viewer, { headers: { Accept: 'text/html' }, redirect: 'manual' });
    expect(first.status).to.equal(303);
    const login = await fetch(`${base}/login`, { method: 'POST', body: new URLSearchParams({ token, next: new URL(viewer).pathname + new URL(viewer).search }), redirect: 'manual' });
    expect(login.headers.get('location')).to.equal(new URL(viewer).pathname + new URL(viewer).search);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const page = await fetch(viewer, { headers: { Cookie: cookie } });
    expect(page.status).to.equal(200);
    expect(await page.text()).to.contain('<div id="root"');
    // The viewer's DICOMweb goes through the node to Orthanc: the study holds our SR and SC.
    const series = (await (await fetch(`${base}/dicom-web/studies/${studyUid}/series`, { headers: { Cookie: cookie } })).json()) as Array<Record<string, { Value?: unknown[] }>>;
    expect(series.map((s) => s['00080060']?.Value?.[0])).to.include.members(['SR', 'OT']);

    child.child.kill('SIGINT');
    expect(await child.exited).to.equal(0);
    expect(child.output()).to.contain('Stopped.');
    expect(await refused(`${orthancUrl}/system`), 'Orthanc is stopped').to.be.true;
    expect(await refused(`${base}/healthz`), 'the node is stopped').to.be.true;
  });
});
