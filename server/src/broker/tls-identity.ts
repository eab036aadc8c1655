/**
 * The certificate of the embedded broker's TLS listener: the owner's own
 * (FEEDKEEPER_TLS_CERT/KEY), or one made once for this server and kept in the
 * data directory, so devices that pin it keep working after a restart.
 */
import { X509Certificate } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { TlsConfig } from "../config.js";

export interface TlsIdentity {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, for owners who check what their device is talking to. */
  fingerprint: string;
  generated: boolean;
}

const VALID_DAYS = 10 * 365;

export async function loadTlsIdentity(config: TlsConfig, dataDir: string): Promise<TlsIdentity> {
  if (config.certFile && config.keyFile) {
    const cert = fs.readFileSync(config.certFile, "utf8");
    return {
      cert,
      key: fs.readFileSync(config.keyFile, "utf8"),
      fingerprint: fingerprintOf(cert),
      generated: false,
    };
  }
  const dir = path.join(dataDir, "tls");
  const certFile = path.join(dir, "mqtts-cert.pem");
  const keyFile = path.join(dir, "mqtts-key.pem");
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const cert = fs.readFileSync(certFile, "utf8");
    return { cert, key: fs.readFileSync(keyFile, "utf8"), fingerprint: fingerprintOf(cert), generated: true };
  }
  // Loaded only here: the certificate library and its dependencies weigh megabytes that most servers never use.
  const { generate } = await import("selfsigned");
  const [commonName = "localhost"] = config.hostnames;
  const notBeforeDate = new Date();
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: config.hostnames.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, fingerprint: fingerprintOf(pems.cert), generated: true };
}

function fingerprintOf(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}
