// Certificates made in the test: a private CA, leaves it signs with chosen validity, a self-signed one, a wrong-host one.
import { generate } from 'selfsigned';

export interface TestKeyPair {
  key: string;
  cert: string;
}

export interface TestCerts {
  /** Trust this (as `ca`) to make the CA-signed leaves valid. */
  ca: TestKeyPair;
  /** Signed by nobody: always a TLS error. */
  selfSigned: TestKeyPair;
  /** CA-signed for 127.0.0.1/localhost, valid for a year. */
  valid: TestKeyPair;
  /** CA-signed, expired yesterday. */
  expired: TestKeyPair;
  expiresIn3Days: TestKeyPair;
  expiresIn15Days: TestKeyPair;
  /** CA-signed and valid, but only for other.example: a hostname mismatch on 127.0.0.1. */
  wrongHost: TestKeyPair;
}

const DAY_MS = 86_400_000;
const LOCAL_NAMES = [
  { type: 2 as const, value: 'localhost' },
  { type: 7 as const, ip: '127.0.0.1' },
];

// EC keys: generation takes milliseconds, so every test file can make its own set.
async function leaf(
  ca: TestKeyPair | null,
  validFrom: number,
  validTo: number,
  altNames: { type: 2 | 7; value?: string; ip?: string }[] = LOCAL_NAMES,
): Promise<TestKeyPair> {
  const pems = await generate([{ name: 'commonName', value: altNames[0]?.value ?? 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(validFrom),
    notAfterDate: new Date(validTo),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
    ...(ca ? { ca: { key: ca.key, cert: ca.cert } } : {}),
  });
  return { key: pems.private, cert: pems.cert };
}

export async function makeTestCerts(now = Date.now()): Promise<TestCerts> {
  const caPems = await generate([{ name: 'commonName', value: 'vigil test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 30 * DAY_MS),
    notAfterDate: new Date(now + 3650 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const ca = { key: caPems.private, cert: caPems.cert };
  const monthAgo = now - 30 * DAY_MS;
  return {
    ca,
    selfSigned: await leaf(null, monthAgo, now + 365 * DAY_MS),
    valid: await leaf(ca, monthAgo, now + 365 * DAY_MS),
    expired: await leaf(ca, monthAgo, now - DAY_MS),
    expiresIn3Days: await leaf(ca, monthAgo, now + 3 * DAY_MS),
    expiresIn15Days: await leaf(ca, monthAgo, now + 15 * DAY_MS),
    wrongHost: await leaf(ca, monthAgo, now + 365 * DAY_MS, [{ type: 2, value: 'other.example' }]),
  };
}
