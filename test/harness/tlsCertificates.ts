/**
 * A throw-away certificate authority and a server certificate for 127.0.0.1, made with the
 * openssl command line, for tests of TLS with a custom CA. Never used outside tests.
 *
 * Orthanc 1.10.1's own HTTPS (SslEnabled) segfaults in a civetweb worker on the first request on
 * this Debian build, so tests terminate TLS in a small reverse proxy in front of it, the way
 * sites put nginx in front of Orthanc.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCertificates {
  dir: string;
  /** PEM of the CA certificate (what a client must trust). */
  caPem: string;
  caFile: string;
  serverKeyPem: string;
  serverCertificatePem: string;
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsr-tls-'));
  const f = (name: string): string => path.join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' });
  };
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=tsr-node test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'));
  return {
    dir,
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    caFile: f('ca.pem'),
    serverKeyPem: readFileSync(f('server.key'), 'utf8'),
    serverCertificatePem: readFileSync(f('server.pem'), 'utf8'),
  };
}
