/**
 * TLS benchmark (`npm run bench -- tls` → `.bench/tls.json`):
 *
 * - handshakes_per_s_1_cert / handshakes_per_s_1000_certs: full TLS 1.3 handshakes (no session
 *   resumption, ECDSA P-256) against Weir's HTTPS server with one certificate, then with 1,000
 *   listeners and certificates on the port, clients asking for random names. Selection is two
 *   hash lookups, so the two numbers should be within noise of each other (target: within 1.2×).
 *   Client and server share this process, so the absolute numbers are a lower bound.
 * - https_rps / nginx_https_rps: wrk over HTTPS (keep-alive, HTTP/1.1) through Weir's HTTPS
 *   server and HTTP proxy to a backend, and through nginx terminating TLS in front of the same
 *   backend (nginx `return 200`), in the same run. wrk is pinned to CPU 1.
 * - grpc_rps / grpc_direct_rps: unary gRPC calls (grpc-js client, one HTTP/2 connection, 64 in
 *   flight) through Weir's HTTP port (h2c with prior knowledge) to a grpc-js h2c backend, and
 *   straight to the backend. Client and backend run in their own processes (tls-grpc/load.ts),
 *   pinned to CPU 1 and 0; Weir runs in this process with its real listener set.
 *
 * Needs the Debian packages nginx, wrk and util-linux (taskset).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createSecureContext, type SecureContext } from 'node:tls';
import { pino } from 'pino';
import { DATAPLANE_CONFIG_SCHEMA, type Certificate, type DataplaneConfig, type PublishedConfig } from '../../api-types/dataplane-config.ts';
import { serializeConfig } from '../../api-types/config-codec.ts';
import { compileConfig } from '../../dataplane/compile.ts';
import { ListenerSet } from '../../dataplane/listeners.ts';
import { HttpProxy } from '../../dataplane/proxy.ts';
import { DataplaneMetrics } from '../../dataplane/telemetry/metrics.ts';
import { PortCertificates, SecureContextCache, type TlsListenerSpec } from '../../dataplane/tls/certificates.ts';
import { createHttpsServer } from '../../dataplane/tls/https-server.ts';
import { isTunnelUpgrade } from '../../dataplane/upgrade.ts';
import { UpstreamRegistry } from '../../dataplane/upstreams.ts';
import { createCertificateAuthority, type CertificateAuthority } from '../../tests/harness/pki.ts';
import { freePorts } from '../../tests/harness/ports.ts';
import { NGINX_TEMP_KINDS, nginxConfig } from './nginx.ts';
import { printTable, writeResult } from './report.ts';

const HANDSHAKE_SECONDS = 2;
const HANDSHAKE_ROUNDS = 3;
const HANDSHAKE_CONCURRENCY = 16;
const WRK_SECONDS = 8;
const CONNECTIONS = 64;
const GRPC_SECONDS = 8;
const GRPC_CONCURRENCY = 64;
const GRPC_LOAD = join(import.meta.dirname, 'tls-grpc', 'load.ts');

function requireTool(name: string, pkg = name): void {
  if (spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0) throw new Error(`${name} is required: apt-get install -y ${pkg}`);
}

async function certificatesFor(ca: CertificateAuthority, count: number): Promise<{ specs: TlsListenerSpec[]; certificates: Certificate[]; names: string[] }> {
  const specs: TlsListenerSpec[] = [];
  const certificates: Certificate[] = [];
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `h${String(i)}.bench.test`;
    const cert = await ca.issueServer({ commonName: name, dnsNames: [name] });
    certificates.push({ certPem: cert.chainPem, keyPem: cert.keyPem, dnsNames: [name] });
    specs.push({ id: `bench/gw/l${String(i)}`, hostname: name, certificates: [i] });
    names.push(name);
  }
  return { specs, certificates, names };
}

/** Completed handshakes per second with `concurrency` clients looping for `seconds`. */
async function handshakeRate(port: number, names: readonly string[], clientContext: SecureContext): Promise<number> {
  let done = 0;
  let failed = 0;
  const deadline = performance.now() + HANDSHAKE_SECONDS * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const servername = names[Math.floor(Math.random() * names.length)] as string;
      const socket = connect({ host: '127.0.0.1', port, servername, secureContext: clientContext, ALPNProtocols: ['http/1.1'] });
      try {
        await once(socket, 'secureConnect');
        if (socket.getPeerX509Certificate()?.subject !== `CN=${servername}`) throw new Error(`wrong certificate for ${servername}`);
        done++;
      } catch (error) {
        failed++;
        if (failed > 10) throw error;
      } finally {
        socket.destroy();
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: HANDSHAKE_CONCURRENCY }, worker));
  return done / ((performance.now() - started) / 1000);
}

async function wrk(url: string, seconds: number): Promise<number> {
  const child = spawn('taskset', ['-c', '1', 'wrk', '-t1', `-c${String(CONNECTIONS)}`, `-d${String(seconds)}s`, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  await once(child, 'exit');
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (rps === null) throw new Error(`could not read wrk output:\n${output}`);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(output);
  if (errors !== null) console.log(`  wrk reported: ${errors[0]}`);
  return Number(rps[1]);
}

function nginxTlsConfig(dir: string, tlsPort: number, backendPort: number, certFile: string, keyFile: string): string {
  return nginxConfig(dir, `  upstream backend { server 127.0.0.1:${String(backendPort)}; keepalive 128; }
  server {
    listen 127.0.0.1:${String(backendPort)};
    location / { return 200 "ok\\n"; }
  }
  server {
    listen 127.0.0.1:${String(tlsPort)} ssl;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

function published(config: DataplaneConfig): PublishedConfig {
  return { epoch: 1, version: 1, digest: serializeConfig(config).digest, config };
}

export async function run(): Promise<void> {
  requireTool('nginx');
  requireTool('wrk');
  requireTool('taskset', 'util-linux');
  const ca = await createCertificateAuthority({ commonName: 'bench-ca' });
  const cache = new SecureContextCache();

  // Handshakes: 1 certificate and 1,000, measured in alternating rounds so load from other
  // processes on the machine hits both alike; the best round of each counts.
  const clientContext = createSecureContext({ ca: ca.certPem });
  const servers: { count: number; port: number; names: string[]; close(): void; table: PortCertificates }[] = [];
  for (const count of [1, 1000]) {
    const { specs, certificates, names } = await certificatesFor(ca, count);
    const table = new PortCertificates(443, specs, { certificates, caBundles: [] }, cache);
    const server = createHttpsServer(table, (_req, res) => { res.end(); });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push({ count, port: (server.address() as AddressInfo).port, names, close: () => { server.close(); }, table });
  }
  const rates: Record<string, number> = {};
  const selectNs: Record<string, number> = {};
  for (const server of servers) {
    await handshakeRate(server.port, server.names, clientContext); // warm-up
    const lookups = 1_000_000;
    const started = performance.now();
    for (let i = 0; i < lookups; i++) server.table.select(server.names[i % server.names.length]);
    selectNs[String(server.count)] = ((performance.now() - started) * 1e6) / lookups;
  }
  for (let round = 0; round < HANDSHAKE_ROUNDS; round++) {
    for (const server of servers) {
      const rate = await handshakeRate(server.port, server.names, clientContext);
      rates[String(server.count)] = Math.max(rates[String(server.count)] ?? 0, rate);
      console.log(`  round ${String(round + 1)}, ${String(server.count)} certificate(s): ${String(Math.round(rate))} handshakes/s`);
    }
  }
  for (const server of servers) server.close();

  // HTTPS throughput: Weir (TLS server + HTTP proxy) vs nginx, same backend.
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-tls-'));
  const [weirPort, nginxPort, backendPort, routePort] = await freePorts(4);
  const serverCert = await ca.issueServer({ commonName: 'bench.example.com', dnsNames: ['bench.example.com', '127.0.0.1'], ipAddresses: ['127.0.0.1'] });
  const certFile = join(dir, 'server.crt');
  const keyFile = join(dir, 'server.key');
  writeFileSync(certFile, serverCert.chainPem);
  writeFileSync(keyFile, serverCert.keyPem, { mode: 0o600 });
  for (const kind of NGINX_TEMP_KINDS) mkdirSync(join(dir, kind));
  writeFileSync(join(dir, 'nginx.conf'), nginxTlsConfig(dir, nginxPort!, backendPort!, certFile, keyFile));
  const nginx = spawn('taskset', ['-c', '0', 'nginx', '-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const upstreams = new UpstreamRegistry();
  const config: DataplaneConfig = {
    schema: DATAPLANE_CONFIG_SCHEMA,
    gateway: { namespace: 'bench', name: 'gw' },
    listeners: [{ id: 'bench/gw/http', port: routePort!, protocol: 'HTTP', rules: [{ hostnames: [], match: { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }, action: 0, grpc: false }] }],
    actions: [{ id: 'a', route: { kind: 'HTTPRoute', namespace: 'bench', name: 'r' }, mirrors: [], backends: [{ clusterId: 'c', weight: 1 }], timeouts: {} }],
    clusters: [{ id: 'c', backend: { kind: 'Service', namespace: 'bench', name: 'b' }, protocol: 'http1', endpoints: [{ address: '127.0.0.1', port: backendPort!, ready: true }] }],
    certificates: [],
    caBundles: [],
    xfcc: { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true },
    trustedProxyHops: 0,
  };
  const compiled = await compileConfig(published(config), { upstreams, metrics: new DataplaneMetrics({ processMetrics: false }) });
  const proxy = new HttpProxy({ source: { current: compiled }, log: pino({ level: 'silent' }), tracing: undefined });
  const table = new PortCertificates(weirPort!, [{ id: 'bench/gw/https', certificates: [0] }], {
    certificates: [{ certPem: serverCert.chainPem, keyPem: serverCert.keyPem, dnsNames: ['bench.example.com'] }],
    caBundles: [],
  }, cache);
  // As the listener set does for an HTTPS port.
  const weir = createHttpsServer(table, (req, res) => { proxy.handle(req, res, routePort!, true); });
  weir.listen(weirPort, '127.0.0.1');
  await once(weir, 'listening');
  let httpsRps = 0;
  let nginxRps = 0;
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    await wrk(`https://127.0.0.1:${String(weirPort)}/`, 2);
    httpsRps = await wrk(`https://127.0.0.1:${String(weirPort)}/`, WRK_SECONDS);
    console.log(`  weir https: ${Math.round(httpsRps)} req/s`);
    await wrk(`https://127.0.0.1:${String(nginxPort)}/`, 2);
    nginxRps = await wrk(`https://127.0.0.1:${String(nginxPort)}/`, WRK_SECONDS);
    console.log(`  nginx https: ${Math.round(nginxRps)} req/s`);
  } finally {
    weir.close();
    await upstreams.closeAll();
    await stop(nginx);
    rmSync(dir, { recursive: true, force: true });
  }

  const grpc = await grpcThroughput();
  console.log(`  grpc: ${Math.round(grpc.weir)} req/s through Weir, ${Math.round(grpc.direct)} direct`);

  const result = {
    handshakes_per_s_1_cert: Math.round(rates['1'] ?? 0),
    handshakes_per_s_1000_certs: Math.round(rates['1000'] ?? 0),
    https_rps: Math.round(httpsRps),
    nginx_https_rps: Math.round(nginxRps),
    grpc_rps: Math.round(grpc.weir),
    grpc_direct_rps: Math.round(grpc.direct),
    sni_select_ns_1_cert: Number((selectNs['1'] ?? 0).toFixed(1)),
    sni_select_ns_1000_certs: Number((selectNs['1000'] ?? 0).toFixed(1)),
    notes: {
      handshakes: 'TLS 1.3, ECDSA P-256, no resumption; client and server in one process; best of 3 alternating 2 s rounds',
      https: 'wrk -t1 -c64, HTTP/1.1 keep-alive; Weir in this process (HTTPS server + HttpProxy), nginx pinned to CPU 0, backend nginx return 200',
      grpc: `grpc-js unary, one HTTP/2 connection, ${String(GRPC_CONCURRENCY)} in flight, ${String(GRPC_SECONDS)} s; client on CPU 1, backend on CPU 0, Weir (listener set, h2c) in this process`,
    },
  };
  printTable('TLS', [
    { metric: 'handshakes/s, 1 certificate', value: result.handshakes_per_s_1_cert },
    { metric: 'handshakes/s, 1000 certificates', value: result.handshakes_per_s_1000_certs },
    { metric: 'ratio 1000/1', value: result.handshakes_per_s_1000_certs / Math.max(1, result.handshakes_per_s_1_cert) },
    { metric: 'SNI selection ns, 1 certificate', value: result.sni_select_ns_1_cert },
    { metric: 'SNI selection ns, 1000 certificates', value: result.sni_select_ns_1000_certs },
    { metric: 'HTTPS req/s, Weir', value: result.https_rps },
    { metric: 'HTTPS req/s, nginx', value: result.nginx_https_rps },
    { metric: 'gRPC req/s, Weir (h2c)', value: result.grpc_rps },
    { metric: 'gRPC req/s, direct', value: result.grpc_direct_rps },
  ]);
  console.log(`\nwrote ${writeResult('tls', result)}`);
}

/** Runs the load helper in its own process pinned to `cpu`; resolves with its first output line. */
function helper(cpu: number, args: string[]): { child: ChildProcess; line: Promise<string> } {
  const child = spawn('taskset', ['-c', String(cpu), process.execPath, GRPC_LOAD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const line = new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => { reject(new Error(`tls-grpc/load.ts ${args[0] ?? ''} exited with ${String(code)}`)); });
  });
  return { child, line };
}

async function grpcClient(port: number, seconds: number): Promise<number> {
  const { line } = helper(1, ['client', String(port), String(seconds), String(GRPC_CONCURRENCY)]);
  const result = JSON.parse(await line) as { rps: number; errors: number };
  if (result.errors > 0) console.log(`  grpc client reported ${String(result.errors)} errors`);
  return result.rps;
}

/** Unary gRPC through Weir's HTTP port (h2c) and straight to the backend. */
async function grpcThroughput(): Promise<{ weir: number; direct: number }> {
  const backend = helper(0, ['backend']);
  const upstreams = new UpstreamRegistry();
  const [weirPort] = await freePorts(1);
  const listeners: { set: ListenerSet | undefined } = { set: undefined };
  try {
    const backendPort = Number(await backend.line);
    const config: DataplaneConfig = {
      schema: DATAPLANE_CONFIG_SCHEMA,
      gateway: { namespace: 'bench', name: 'gw' },
      listeners: [{ id: 'bench/gw/grpc', port: weirPort!, protocol: 'HTTP', rules: [{ hostnames: [], match: { path: { type: 'PathPrefix', value: '/bench.Echo' }, headers: [], queryParams: [] }, action: 0, grpc: true }] }],
      actions: [{ id: 'g', route: { kind: 'GRPCRoute', namespace: 'bench', name: 'g' }, mirrors: [], backends: [{ clusterId: 'g', weight: 1 }], timeouts: {} }],
      clusters: [{ id: 'g', backend: { kind: 'Service', namespace: 'bench', name: 'g' }, protocol: 'h2c', endpoints: [{ address: '127.0.0.1', port: backendPort, ready: true }] }],
      certificates: [],
      caBundles: [],
      xfcc: { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true },
      trustedProxyHops: 0,
    };
    const compiled = await compileConfig(published(config), { upstreams, metrics: new DataplaneMetrics({ processMetrics: false }) });
    const proxy = new HttpProxy({ source: { current: compiled }, log: pino({ level: 'silent' }), tracing: undefined });
    listeners.set = new ListenerSet(
      { request: (req, res, port, secure) => { proxy.handle(req, res, port, secure); }, upgrade: (req, socket, head, port, secure) => { proxy.upgrade(req, socket, head, port, secure); }, tunnels: isTunnelUpgrade },
      { host: '127.0.0.1', drainTimeoutMs: 1_000 },
    );
    await listeners.set.prepare(compiled.ports.values());
    await grpcClient(weirPort!, 2); // warm-up
    const weir = await grpcClient(weirPort!, GRPC_SECONDS);
    const direct = await grpcClient(backendPort, GRPC_SECONDS);
    return { weir, direct };
  } finally {
    await listeners.set?.closeAll();
    await upstreams.closeAll();
    await stop(backend.child);
  }
}
