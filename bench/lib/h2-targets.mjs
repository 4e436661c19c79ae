// The HTTP/2 part's processes and files: a self-signed certificate made with openssl at bench
// time, the main part's Ingress with a TLS entry (so Isthmus serves HTTPS with ALPN h2 and
// http/1.1), nginx with `listen ... ssl http2` in front of the same origin, and an HTTP/2 GET
// that proves a proxy really answers over h2.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { join } from 'node:path';
import { writeSimpleConfig } from './config-gen.mjs';
import { findCommand, stopProcess } from './processes.mjs';
import { adaptConf, ORIGIN_LISTEN, PROXY_CPU, PROXY_LISTEN, startGateway, startNginx, tail } from './targets.mjs';

/** The host the main part's Ingress serves; the certificate names it. */
export const H2_HOST = 'bench.local';
const SECRET = 'bench-tls';

/**
 * An ECDSA P-256 key and a self-signed certificate for `host` (valid two days) in `dir`, made
 * with openssl: `{ certPath, keyPath, certPem, keyPem }`. Both proxies serve this one pair.
 */
export function makeCertificate(dir, host = H2_HOST) {
  const openssl = findCommand('openssl');
  if (!openssl) throw new Error('openssl is not installed: the HTTP/2 part makes its certificate with it (`apt-get install openssl`)');
  const certPath = join(dir, 'tls.crt');
  const keyPath = join(dir, 'tls.key');
  execFileSync(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', keyPath, '-out', certPath,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { certPath, keyPath, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

/**
 * The main part's config (Ingress bench/bench, `bench.local`, `/` Prefix to the origin Service)
 * with `spec.tls` naming a kubernetes.io/tls Secret of `cert`: Isthmus then listens on HTTPS too
 * (docs/ingress.md#tls). Returns the request, as writeSimpleConfig does.
 */
export function writeH2Config(dir, { upstreamPort, endpointsKind, cert }) {
  const request = writeSimpleConfig(dir, { upstreamPort, endpointsKind });
  const b64 = (pem) => Buffer.from(pem).toString('base64');
  writeFileSync(join(dir, '05-secret-tls.yaml'), `apiVersion: v1
kind: Secret
metadata:
  name: ${SECRET}
  namespace: bench
type: kubernetes.io/tls
data:
  tls.crt: ${b64(cert.certPem)}
  tls.key: ${b64(cert.keyPem)}
`);
  // Replaces the plain Ingress writeSimpleConfig wrote: the same rule, plus the TLS entry.
  writeFileSync(join(dir, '10-ingress-bench.yaml'), `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bench
  namespace: bench
  creationTimestamp: "2024-01-01T00:00:00Z"
spec:
  ingressClassName: isthmus
  tls:
    - hosts: [${request.host}]
      secretName: ${SECRET}
  rules:
    - host: ${request.host}
      http:
        paths:
          - path: ${request.path}
            pathType: Prefix
            backend:
              service:
                name: origin
                port:
                  number: 80
`);
  return request;
}

/**
 * One GET over HTTP/2 on a fresh TLS connection (no SNI: the URL is an IP, as for h2load), the
 * certificate checked against `ca`: `{ status, body, alpn }`.
 */
export function h2Get({ port, authority, path = '/', ca, timeoutMs = 3000 }) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca, checkServerIdentity: () => undefined, ALPNProtocols: ['h2'] });
    const timer = setTimeout(() => session.destroy(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    session.on('connect', () => {
      const req = session.request({ ':path': path, ':authority': authority });
      const chunks = [];
      let status = 0;
      req.on('response', (headers) => { status = headers[':status']; });
      req.on('data', (c) => chunks.push(c));
      req.on('error', fail);
      req.on('end', () => {
        clearTimeout(timer);
        const alpn = session.alpnProtocol;
        session.close();
        resolve({ status, body: Buffer.concat(chunks).toString('utf8'), alpn });
      });
      req.end();
    });
  });
}

/** Throws unless `target` answers the origin's 200 "hello world" over h2. */
export async function checkProxiedH2(target, { host, path }, ca) {
  const res = await h2Get({ port: target.port, authority: host, path, ca });
  if (res.alpn !== 'h2' || res.status !== 200 || res.body !== 'hello world\n') {
    throw new Error(`${target.name}: GET ${path} (:authority ${host}) over TLS answered ${res.status} ${JSON.stringify(res.body.slice(0, 300))} with ALPN ${res.alpn}, expected 200 "hello world" over h2${target.handle.logPath ? `\n--- ${target.handle.logPath} (tail)\n${tail(target.handle.logPath)}` : ''}`);
  }
  return res;
}

/** Polls checkProxiedH2 until it passes; a process that exits or never does is stopped, not left behind. */
async function waitForH2(target, request, ca, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await checkProxiedH2(target, request, ca);
    } catch (err) {
      if (target.handle.exitInfo || performance.now() > deadline) {
        await stopProcess(target.handle);
        throw err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * nginx-proxy.conf (one worker, upstream keepalive 64) with its listener made
 * `listen ... ssl http2` on `cert`: the same proxy as the main part's, HTTPS + HTTP/2 in front.
 * `ssl_protocols TLSv1.2 TLSv1.3`: nginx 1.22's default leaves TLS 1.3 out (1.23.4 added it), and
 * Node offers 1.2 and 1.3, so without it h2load would negotiate 1.3 with Isthmus and 1.2 with nginx.
 * `keepalive_requests` in the http block (100,000,000) also bounds requests per h2 connection,
 * so nginx sends no GOAWAY during a run (its default is 1,000).
 */
export async function startNginxH2Proxy({ workDir, port, originPort, cert, request }) {
  const confText = adaptConf('nginx-proxy.conf', [
    [ORIGIN_LISTEN, `127.0.0.1:${originPort}`],
    [`listen ${PROXY_LISTEN} backlog=4096;`, `listen 127.0.0.1:${port} ssl http2 backlog=4096;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_certificate ${cert.certPath};\n    ssl_certificate_key ${cert.keyPath};`],
  ]);
  const handle = startNginx({ name: 'nginx-h2', workDir, confFile: 'nginx-proxy-h2.conf', confText, cpu: PROXY_CPU });
  const target = { name: 'nginx-h2', handle, port };
  await waitForH2(target, request, cert.certPem);
  return target;
}

/** Isthmus on the TLS config; the target's port is the HTTPS one. */
export async function startIsthmusH2({ name = 'isthmus-h2', configDir, originPort, workDir, ports, workers, gatewayCmd, cert, request }) {
  const gw = await startGateway({ name, gatewayCmd, workers, configDir, ports, originPort, workDir });
  const target = { ...gw, port: ports.https, httpPort: ports.http };
  await waitForH2(target, request, cert.certPem);
  return target;
}
