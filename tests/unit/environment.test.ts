// One environment reader for operator and dataplane: set-but-wrong values are errors that name
// the variable, never silent defaults.
import t from 'tap';
import { Environment, EnvironmentError } from '../../api-types/environment.ts';

t.test('unset or empty values take the default; good values are read', (t) => {
  const env = new Environment({ EMPTY: '', PORT: '9091', MODE: 'NodePort', GW: 'ns/gw' });
  t.equal(env.optional('MISSING'), undefined);
  t.equal(env.optional('EMPTY'), undefined);
  t.equal(env.integer('EMPTY', 7), 7);
  t.equal(env.integer('PORT', 9090), 9091);
  t.equal(env.oneOf('MODE', ['ClusterIP', 'NodePort'] as const, 'ClusterIP'), 'NodePort');
  t.equal(env.oneOf('MISSING', ['ClusterIP', 'NodePort'] as const, 'ClusterIP'), 'ClusterIP');
  t.same(env.gateway('GW'), { namespace: 'ns', name: 'gw' });
  t.end();
});

t.test('wrong values are errors naming the variable and the value', (t) => {
  const env = new Environment({ LEASE: '500', NOT_A_NUMBER: 'abc', FRACTION: '1.5', MODE: 'Ingress', GW: 'a/b/c' });
  t.throws(() => env.required('REDIS_URL'), new EnvironmentError('REDIS_URL must be set'));
  t.throws(() => env.integer('LEASE', 8000, 1000), new EnvironmentError('LEASE must be an integer of at least 1000, got 500'));
  t.throws(() => env.integer('NOT_A_NUMBER', 1), /NOT_A_NUMBER must be an integer of at least 0, got abc/);
  t.throws(() => env.integer('FRACTION', 1), /FRACTION must be an integer/);
  t.throws(() => env.oneOf('MODE', ['ClusterIP', 'NodePort'] as const, 'ClusterIP'), /MODE must be ClusterIP, NodePort, got Ingress/);
  t.throws(() => env.gateway('GW'), /GW must be <namespace>\/<name>, got a\/b\/c/);
  t.end();
});
