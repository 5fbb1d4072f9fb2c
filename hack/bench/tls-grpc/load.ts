/**
 * Helper processes of the gRPC part of `npm run bench -- tls`, run apart from the process under
 * test so they do not share its event loop (in a subfolder, so the bench runner does not take
 * this file for a benchmark):
 *
 *   node hack/bench/tls-grpc/load.ts backend            grpc-js h2c server; prints its port
 *   node hack/bench/tls-grpc/load.ts client PORT SECONDS CONCURRENCY
 *                                                       unary calls on one channel (one HTTP/2
 *                                                       connection), CONCURRENCY in flight;
 *                                                       prints {"rps": ..., "errors": ...}
 *
 * Messages are raw bytes (identity serializers): no generated code.
 */
import * as grpc from '@grpc/grpc-js';

const bytes = (buffer: Buffer): Buffer => buffer;
export const BENCH_METHOD = '/bench.Echo/Unary';
const service: grpc.ServiceDefinition = {
  Unary: { path: BENCH_METHOD, requestStream: false, responseStream: false, requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes },
};

async function backend(): Promise<void> {
  const server = new grpc.Server();
  const unary: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => { callback(null, call.request); };
  server.addService(service, { Unary: unary });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => { if (error === null) resolve(bound); else reject(error); });
  });
  process.stdout.write(`${String(port)}\n`);
  process.once('SIGTERM', () => { server.forceShutdown(); process.exit(0); });
}

async function client(port: number, seconds: number, concurrency: number): Promise<void> {
  const channel = new grpc.Client(`127.0.0.1:${String(port)}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'bench.example.com' });
  const payload = Buffer.from('ping');
  const metadata = new grpc.Metadata();
  let done = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        channel.makeUnaryRequest(BENCH_METHOD, bytes, bytes, payload, metadata, (error) => {
          if (error === null) done++;
          else errors++;
          resolve();
        });
      });
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  channel.close();
  process.stdout.write(`${JSON.stringify({ rps: done / elapsed, errors })}\n`);
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'backend') await backend();
else if (mode === 'client') await client(Number(args[0]), Number(args[1]), Number(args[2]));
else throw new Error('usage: tls-grpc/load.ts backend | client PORT SECONDS CONCURRENCY');
