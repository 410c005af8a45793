/**
 * Self-signed certificates made at run time with the `openssl` command (no
 * key material is committed): an EC P-256 key (fast to make) and a
 * certificate for 127.0.0.1 and localhost, valid for two days.
 */

import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const OPENSSL = ['/usr/bin/openssl', '/bin/openssl'].find((file) => existsSync(file));

export interface TestCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate's PEM, to trust it in a client (`ca`). */
  readonly certPem: string;
  /** SHA-256 fingerprint as Node prints it (`AB:CD:...`). */
  readonly fingerprint256: string;
}

/** Makes `<dir>/<name>.cert.pem` and `<dir>/<name>.key.pem` for CN=`name`. */
export function makeCertificate(dir: string, name: string): TestCertificate {
  if (OPENSSL === undefined) throw new Error('openssl is not installed (apt-get install -y openssl)');
  const certFile = path.join(dir, `${name}.cert.pem`);
  const keyFile = path.join(dir, `${name}.key.pem`);
  execFileSync(
    OPENSSL,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
      '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'pipe' },
  );
  const certPem = readFileSync(certFile, 'utf8');
  return { certFile, keyFile, certPem, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}

/** Writes `<keyFile>.enc.pem`: the key encrypted with AES-256 under `passphrase` (given to openssl by environment, not argv). */
export function encryptKey(keyFile: string, passphrase: string): string {
  if (OPENSSL === undefined) throw new Error('openssl is not installed');
  const out = `${keyFile}.enc.pem`;
  execFileSync(OPENSSL, ['pkey', '-in', keyFile, '-aes256', '-passout', 'env:SLABCACHE_TEST_PASSPHRASE', '-out', out], {
    stdio: 'pipe',
    env: { ...process.env, SLABCACHE_TEST_PASSPHRASE: passphrase },
  });
  return out;
}
