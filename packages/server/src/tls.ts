/**
 * HTTPS: with TLS_CERT and TLS_KEY the server is uWS's SSLApp (hyper-express
 * `Server({ cert_file_name, key_file_name, passphrase })`), in every server
 * thread, and the port speaks TLS only: a plain-HTTP request on it fails the
 * handshake and the connection is closed without a reply.
 *
 * `checkTls` runs at startup, before any thread starts: it reads both files
 * with Node's own crypto and refuses (ConfigError, exit 2) a file that cannot
 * be read, a key that does not decrypt with TLS_KEY_PASSPHRASE, a certificate
 * that does not parse, or a key that is not the certificate's. uWS would
 * otherwise fail later with a message that prints the passphrase
 * (hyper-express lists every option in it), or not at all.
 *
 * uWS reads the files once, when each thread builds its app: replacing them
 * on disk changes nothing until a restart (docs/security.md#tls, measured by
 * test/tls.test.ts).
 */

import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ConfigError, type ServerConfig } from './config.js';

/** What the `listening` log line says about the certificate (nothing secret). */
export interface TlsSummary {
  readonly cert: string;
  readonly subject: string;
  readonly subjectAltName: string | undefined;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
  readonly expired: boolean;
}

/** A PKCS#8 encrypted key, or a traditional PEM key with encryption headers. */
function isEncryptedPem(pem: Buffer): boolean {
  const text = pem.toString('latin1');
  return text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /^Proc-Type: 4,ENCRYPTED\r?$/m.test(text);
}

/** hyper-express's TLS options (uWS `AppOptions`), or none for plain HTTP. */
export interface TlsAppOptions {
  readonly cert_file_name?: string;
  readonly key_file_name?: string;
  readonly passphrase?: string;
}

export function tlsEnabled(config: ServerConfig): boolean {
  return config.tlsCert !== '' && config.tlsKey !== '';
}

/** Validates TLS_CERT/TLS_KEY/TLS_KEY_PASSPHRASE; undefined without TLS. Throws ConfigError. */
export function checkTls(config: ServerConfig, now = new Date()): TlsSummary | undefined {
  if (!tlsEnabled(config)) return undefined;
  const certPem = readPem(config.tlsCert, 'TLS_CERT');
  const keyPem = readPem(config.tlsKey, 'TLS_KEY');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (error) {
    throw new ConfigError(`TLS_CERT=${JSON.stringify(config.tlsCert)} is not a PEM certificate (${(error as Error).message})`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(config.tlsKeyPassphrase === '' ? { key: keyPem } : { key: keyPem, passphrase: config.tlsKeyPassphrase });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // A wrong passphrase usually fails the cipher's padding check (BAD_DECRYPT), but about once in 200
    // the padding happens to pass and the garbage fails later as another error: an encrypted key that a
    // given passphrase does not open is a wrong passphrase whatever OpenSSL's code.
    const wrongPassphrase = config.tlsKeyPassphrase !== '' && (code === 'ERR_OSSL_BAD_DECRYPT' || isEncryptedPem(keyPem));
    const why =
      code === 'ERR_MISSING_PASSPHRASE' || code === 'ERR_OSSL_CRYPTO_INTERRUPTED_OR_CANCELLED'
        ? 'it is encrypted: set TLS_KEY_PASSPHRASE'
        : wrongPassphrase
          ? 'TLS_KEY_PASSPHRASE does not decrypt it'
          : `not a PEM private key (${code || (error as Error).message})`;
    throw new ConfigError(`TLS_KEY=${JSON.stringify(config.tlsKey)} cannot be used: ${why}`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new ConfigError(`TLS_KEY=${JSON.stringify(config.tlsKey)} is not the private key of TLS_CERT=${JSON.stringify(config.tlsCert)}`);
  }
  return {
    cert: path.resolve(config.tlsCert),
    subject: cert.subject,
    subjectAltName: cert.subjectAltName,
    validFrom: cert.validFrom,
    validTo: cert.validTo,
    fingerprint256: cert.fingerprint256,
    expired: new Date(cert.validTo).getTime() < now.getTime(),
  };
}

/** The options that make hyper-express build uWS's SSLApp; {} without TLS. */
export function tlsAppOptions(config: ServerConfig): TlsAppOptions {
  if (!tlsEnabled(config)) return {};
  const files = { cert_file_name: path.resolve(config.tlsCert), key_file_name: path.resolve(config.tlsKey) };
  return config.tlsKeyPassphrase === '' ? files : { ...files, passphrase: config.tlsKeyPassphrase };
}

function readPem(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(`${setting}=${JSON.stringify(file)} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}
