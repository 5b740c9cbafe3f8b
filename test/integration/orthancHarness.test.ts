import { expect } from 'chai';
import { startOrthanc, type OrthancInstance } from '../harness/orthanc';

describe('test harness: real Orthanc', () => {
  let orthanc: OrthancInstance;
  before(async () => {
    orthanc = await startOrthanc();
  });
  after(async () => {
    await orthanc?.stop();
  });

  it('answers /system with authentication and refuses requests without it', async () => {
    const system = await orthanc.rest<{ Version: string }>('GET', '/system');
    expect(system.Version).to.equal('1.10.1');
    const anonymous = await fetch(`${orthanc.url}/system`);
    expect(anonymous.status).to.equal(401);
  });

  it('has the DICOMweb plugin loaded', async () => {
    const response = await fetch(`${orthanc.dicomWebUrl}/studies`, { headers: { Authorization: orthanc.authorization, Accept: 'application/dicom+json' } });
    expect(response.status).to.equal(200);
    expect(await response.json()).to.deep.equal([]);
  });
});
