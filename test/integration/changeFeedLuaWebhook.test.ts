/**
 * orthanc-config/ for real: a real Orthanc started with the site configuration fragment
 * (orthanc-config/orthanc.json) and the Lua script (tsr-node-webhook.lua) POSTs StableStudy to a
 * small local receiver standing in for the node's webhook route; the notification then goes
 * through the node's intake like the HTTP route will pass it.
 */
import { expect } from 'chai';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDicomWebClient } from '../../src/dicomweb/client';
import { SqliteJobStore } from '../../src/jobs/sqliteJobStore';
import { StudyIntake } from '../../src/orthanc/intake';
import { OrthancRestClient } from '../../src/orthanc/orthancRest';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';
import { makeSimpleCtSeries } from '../harness/simpleCtSeries';

const CONFIG_DIR = path.join(__dirname, '../../orthanc-config');

interface Received {
  url: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

describe('orthanc-config: the Lua webhook script in a real Orthanc', function () {
  this.timeout(30_000);
  let orthanc: OrthancInstance;
  let receiver: http.Server;
  const received: Received[] = [];

  before(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ url: req.url ?? '', authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
        res.writeHead(202, { 'Content-Type': 'application/json' }).end('{"outcome":"enqueued"}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;

    // The site fragment as shipped, with what a test must own: users (the harness's), the
    // script's path in this checkout, the receiver's URL, a short StableAge, loopback only.
    const fragment = JSON.parse(readFileSync(path.join(CONFIG_DIR, 'orthanc.json'), 'utf8')) as Record<string, unknown>;
    delete fragment.RegisteredUsers;
    orthanc = await startOrthanc({
      extraConfig: {
        ...fragment,
        StableAge: 1,
        RemoteAccessAllowed: false,
        LuaScripts: [path.join(CONFIG_DIR, 'tsr-node-webhook.lua')],
        TsrNode: { WebhookUrl: `http://127.0.0.1:${port}/api/webhook/stable-study`, WebhookToken: 'webhook-token-0123456789' },
      },
    });
  });
  after(async () => {
    await orthanc?.stop();
    receiver?.close();
  });

  it('POSTs the Orthanc study id with the bearer token on StableStudy, and the intake enqueues it', async () => {
    const s = makeSimpleCtSeries({ seed: 'lua-webhook', slices: 2, rows: 16, columns: 16 });
    for (const instance of s.instances) await orthanc.rest('POST', '/instances', instance.part10);
    const deadline = Date.now() + 15_000;
    while (received.length === 0) {
      if (Date.now() > deadline) throw new Error(`no webhook call; Orthanc log:\n${readFileSync(orthanc.logFile, 'utf8').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(received).to.have.length(1);
    const [call] = received;
    expect(call.url).to.equal('/api/webhook/stable-study');
    expect(call.authorization).to.equal('Bearer webhook-token-0123456789');
    expect(call.contentType).to.equal('application/json');
    const body = JSON.parse(call.body) as { event: string; orthancStudyId: string; studyInstanceUID: string };
    const lookup = await orthanc.rest<Array<{ ID: string }>>('POST', '/tools/lookup', s.studyInstanceUID);
    expect(body).to.deep.equal({ event: 'StableStudy', orthancStudyId: lookup[0].ID, studyInstanceUID: s.studyInstanceUID });

    // What the node's webhook route does with it.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-lua-'));
    const store = new SqliteJobStore({ path: dir });
    const connection = { url: orthanc.url, username: orthanc.username, password: orthanc.password };
    const rest = new OrthancRestClient(connection);
    const dicomWeb = createDicomWebClient(connection);
    const intake = new StudyIntake({ store, orthanc: rest, dicomWeb });
    const result = await intake.onStableStudyNotification({ orthancStudyId: body.orthancStudyId });
    rest.close();
    dicomWeb.close();
    expect(result.outcome).to.equal('enqueued');
    expect(result.job).to.include({ studyInstanceUID: s.studyInstanceUID, source: 'webhook', orthancStudyId: body.orthancStudyId });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the shipped fragment configures DICOMweb as the node needs it (full metadata, no fixed Host)', async () => {
    const fragment = JSON.parse(readFileSync(path.join(CONFIG_DIR, 'orthanc.json'), 'utf8')) as { DicomWeb: Record<string, unknown> };
    expect(fragment.DicomWeb).to.include({ Enable: true, StudiesMetadata: 'Full', SeriesMetadata: 'Full' });
    expect(fragment.DicomWeb).to.not.have.property('Host');
    // And the running Orthanc, started with it, answers QIDO-RS.
    const response = await fetch(`${orthanc.dicomWebUrl}/studies`, { headers: { Authorization: orthanc.authorization, Accept: 'application/dicom+json' } });
    expect(response.status).to.equal(200);
  });
});
