/**
 * `tsr-node inspect` as an administrator runs it: a child process of the CLI (from the TypeScript
 * sources), configured by the environment, against a real Orthanc.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries } from '../harness/simpleCtSeries';

const TSX = require.resolve('tsx/cjs');
const CLI_MAIN = path.resolve(__dirname, '../../src/cli/main.ts');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  // The arguments travel in the environment: `node -e … inspect` would start Node's own debugger.
  const code = `require(${JSON.stringify(CLI_MAIN)}).main(JSON.parse(process.env.CLI_ARGS)).then((c) => { process.exitCode = c; }, (e) => { console.error(e); process.exitCode = 1; })`;
  // Only the variables this test sets: nothing from the developer's own TSR_* environment.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TSR_')));
  const child = spawn(process.execPath, ['--require', TSX, '-e', code], {
    env: { ...clean, ...env, CLI_ARGS: JSON.stringify(args) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ code: status ?? 1, stdout, stderr })));
}

interface InspectJson {
  studyInstanceUID: string;
  analyzable: boolean;
  reasonCode?: string;
  reason?: string;
  arterial: { seriesInstanceUID: string; seriesDescription: string; score: number; why: string[] } | null;
  venous: { seriesInstanceUID: string; seriesDescription: string; score: number; why: string[] } | null;
  candidates: { seriesInstanceUID: string; details: { passed: unknown[]; failed: unknown[] } }[];
}

describe('tsr-node inspect against a real Orthanc', function () {
  this.timeout(60_000);
  let orthanc: OrthancInstance;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  const series = (seed: string, description: string, seriesNumber: number, studyInstanceUID?: string) =>
    makeSimpleCtSeries({ seed, rows: 32, columns: 32, slices: 24, seriesNumber, seriesDescription: description, ...(studyInstanceUID ? { studyInstanceUID } : {}) });

  before(async () => {
    orthanc = await startOrthanc();
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'tsr-inspect-'));
    env = { TSR_ORTHANC_URL: orthanc.url, TSR_ORTHANC_USERNAME: orthanc.username, TSR_ORTHANC_PASSWORD: orthanc.password, TSR_DATA_DIR: dataDir, TSR_LOG_LEVEL: 'warn' };
  });
  after(async () => {
    await orthanc?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the chosen series and every candidate as JSON, exit code 0', async () => {
    const art = series('inspect-ok', 'Arterial 1.0', 2);
    const pv = series('inspect-ok', 'PV 1.0', 3, art.studyInstanceUID);
    const scout = makeSimpleCtSeries({ seed: 'inspect-ok', rows: 32, columns: 32, slices: 1, seriesNumber: 1, seriesDescription: 'Topogram', studyInstanceUID: art.studyInstanceUID, extra: { ImageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] } });
    for (const s of [art, pv, scout]) for (const i of s.instances) await orthanc.rest('POST', '/instances', i.part10);
    const r = await runCli(['inspect', art.studyInstanceUID], env);
    expect(r.code, r.stderr).to.equal(0);
    const json = JSON.parse(r.stdout) as InspectJson;
    expect(json.studyInstanceUID).to.equal(art.studyInstanceUID);
    expect(json.analyzable).to.equal(true);
    expect(json.reason).to.equal(undefined);
    expect(json.arterial?.seriesInstanceUID).to.equal(art.seriesInstanceUID);
    expect(json.arterial?.seriesDescription).to.equal('Arterial 1.0');
    expect(json.arterial?.why.join('\n')).to.contain('arterial');
    expect(json.venous?.seriesInstanceUID).to.equal(pv.seriesInstanceUID);
    expect(json.candidates.map((c) => c.seriesInstanceUID)).to.have.members([art.seriesInstanceUID, pv.seriesInstanceUID, scout.seriesInstanceUID]);
    const scoutCandidate = json.candidates.find((c) => c.seriesInstanceUID === scout.seriesInstanceUID);
    expect(JSON.stringify(scoutCandidate?.details.failed)).to.contain('LOCALIZER');
  });

  it('a study that cannot be analysed: exit code 0, analyzable false, with the reason', async () => {
    const art = series('inspect-single', 'Arterial', 1);
    for (const i of art.instances) await orthanc.rest('POST', '/instances', i.part10);
    const r = await runCli(['inspect', art.studyInstanceUID, '--compact'], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim().split('\n')).to.have.length(1);
    const json = JSON.parse(r.stdout) as InspectJson;
    expect(json.analyzable).to.equal(false);
    expect(json.reasonCode).to.equal('single-phase');
    expect(json.reason).to.contain('arterial');
    expect(json.venous).to.equal(null);
  });

  it('an unreachable PACS: exit code 1 and a clear message', async () => {
    const port = await freePort();
    const r = await runCli(['inspect', '1.2.3.4'], { ...env, TSR_ORTHANC_URL: `http://127.0.0.1:${port}` });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.contain('cannot inspect study 1.2.3.4').and.contain(`127.0.0.1:${port}`);
  });

  it('wrong credentials: exit code 1, the PACS refused them', async () => {
    const r = await runCli(['inspect', '1.2.3.4'], { ...env, TSR_ORTHANC_PASSWORD: 'wrong' });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/credentials/);
  });

  it('usage errors: exit code 2', async () => {
    expect((await runCli(['inspect'], env)).code).to.equal(2);
    expect((await runCli(['inspect', 'not-a-uid'], env)).code).to.equal(2);
    const badConfig = await runCli(['inspect', '1.2.3'], { ...env, TSR_ORTHANC_URL: 'not a url' });
    expect(badConfig.code).to.equal(2);
  });
});
