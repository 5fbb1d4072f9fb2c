// The envelope carries the trace context of the change that published it; envelopes without
// it (older operators, tracing off) decode as before, and a rejected one still names it.
import t from 'tap';
import { decodeEnvelope, encodeEnvelope, serializeConfig } from '../../api-types/config-codec.ts';
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';

const config: DataplaneConfig = {
  schema: 'weir.dev/dataplane-config/v1',
  gateway: { namespace: 'ns', name: 'gw' },
  listeners: [],
  actions: [],
  clusters: [],
  certificates: [],
  caBundles: [],
  xfcc: { mode: 'SanitizeSet', subject: true, cert: false, chain: false, uri: true, dns: true },
  trustedProxyHops: 0,
};
const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

t.test('traceparent round trip', (t) => {
  const decoded = decodeEnvelope(encodeEnvelope({ epoch: 2, version: 7 }, serializeConfig(config), traceparent));
  t.ok(decoded.ok);
  if (decoded.ok) {
    t.equal(decoded.value.traceparent, traceparent);
    t.equal(decoded.value.version, 7);
    t.same(decoded.value.config, config);
  }
  t.end();
});

t.test('an envelope without trace context (an older operator) still decodes', (t) => {
  const serialized = serializeConfig(config);
  const old = `{"epoch":1,"version":3,"digest":${JSON.stringify(serialized.digest)},"config":${serialized.json}}`;
  t.equal(encodeEnvelope({ epoch: 1, version: 3 }, serialized), old, 'without a traceparent the encoding is unchanged');
  const decoded = decodeEnvelope(old);
  t.ok(decoded.ok);
  if (decoded.ok) t.equal(decoded.value.traceparent, undefined);
  t.end();
});

t.test('a rejected envelope still names its revision and trace', (t) => {
  const decoded = decodeEnvelope(JSON.stringify({ epoch: 1, version: 4, digest: 'sha256:nope', traceparent, config: {} }));
  t.notOk(decoded.ok);
  if (!decoded.ok) {
    t.same(decoded.revision, { epoch: 1, version: 4 });
    t.equal(decoded.traceparent, traceparent);
  }
  t.end();
});
