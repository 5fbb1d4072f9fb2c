// gRPC-shaped local errors: detection, status mapping, message encoding, trailers-only answer.
import t from 'tap';
import { encodeGrpcMessage, grpcErrorHeaders, GrpcStatus, grpcStatusForHttp, isGrpcRequest, sendGrpcError } from '../../dataplane/grpc/errors.ts';

t.test('detects gRPC content types', (t) => {
  t.ok(isGrpcRequest({ 'content-type': 'application/grpc' }));
  t.ok(isGrpcRequest({ 'content-type': 'application/grpc+proto' }));
  t.ok(isGrpcRequest({ 'content-type': 'application/grpc; charset=utf-8' }));
  t.notOk(isGrpcRequest({ 'content-type': 'application/grpc-web' }));
  t.notOk(isGrpcRequest({ 'content-type': 'application/json' }));
  t.notOk(isGrpcRequest({}));
  t.end();
});

t.test('maps HTTP statuses', (t) => {
  t.equal(grpcStatusForHttp(404), GrpcStatus.UNIMPLEMENTED);
  t.equal(grpcStatusForHttp(503), GrpcStatus.UNAVAILABLE);
  t.equal(grpcStatusForHttp(504), GrpcStatus.DEADLINE_EXCEEDED);
  t.equal(grpcStatusForHttp(500), GrpcStatus.UNKNOWN);
  t.end();
});

t.test('no route: HTTP 200, application/grpc, grpc-status 12', (t) => {
  t.same(grpcErrorHeaders(404, 'no route for /pkg.Svc/Method'), {
    'content-type': 'application/grpc',
    'grpc-status': '12',
    'grpc-message': 'no route for /pkg.Svc/Method',
  });
  t.equal(encodeGrpcMessage('50% ünïcode\n'), '50%25 %C3%BCn%C3%AFcode%0A');
  const written: unknown[] = [];
  sendGrpcError({ headersSent: false, writeHead: (...args: unknown[]) => written.push(args), end: () => written.push('end'), destroy: () => written.push('destroy') }, 503, 'x');
  t.same(written, [[200, { 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'x' }], 'end']);
  const late: unknown[] = [];
  sendGrpcError({ headersSent: true, writeHead: () => late.push('head'), end: () => late.push('end'), destroy: () => late.push('destroy') }, 503, 'x');
  t.same(late, ['destroy'], 'after headers went out, the stream is reset instead');
  t.end();
});
