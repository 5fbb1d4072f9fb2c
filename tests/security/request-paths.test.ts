// Path normalisation before matching (RFC 3986 §6), over HTTP/1.1 and h2c: every spelling of
// `/admin` reaches the admin rule and is forwarded as `/admin`; what cannot be normalised safely
// is refused with 400; the per-Gateway policy (PathPolicy) changes exactly what it says.
import t from 'tap';
import type { PathPolicy } from '../../api-types/dataplane-config.ts';
import { freePort, type TestContext } from '../harness/index.ts';
import { action, dataplaneConfig, echoCluster, newGateway, rule } from '../integration/dataplane-fixtures.ts';
import { echoOf, h2request, h2session, rawExchange, startGateway } from './support-request.ts';

const port = await freePort();
const gateway = await startGateway(t);
const tag = (name: string): ReturnType<typeof action> => action(name, 'echo', { requestHeaders: { set: [{ name: 'x-route', value: name }], add: [], remove: [] } });

async function applyPolicy(pathPolicy?: PathPolicy): Promise<void> {
  await gateway.apply({
    ...dataplaneConfig(newGateway(), {
      listeners: [{
        id: 'gw/http',
        port,
        protocol: 'HTTP',
        rules: [rule(0, { path: { type: 'PathPrefix', value: '/admin' } }), rule(1, { path: { type: 'PathPrefix', value: '/public' } }), rule(2)],
      }],
      actions: [tag('admin'), tag('public'), tag('default')],
      clusters: [echoCluster('echo', [gateway.echo])],
    }),
    ...(pathPolicy === undefined ? {} : { pathPolicy }),
  });
}

interface Outcome { status: number; route?: string; path?: string }

async function viaHttp1(target: string): Promise<Outcome> {
  const answer = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: a.test\r\n\r\n`);
  const echo = echoOf(answer.text);
  return { status: answer.statuses[0] ?? 0, ...(echo === undefined ? {} : { route: echo.headers['X-Route']?.[0], path: echo.path }) };
}

async function viaH2c(t: TestContext, target: string): Promise<Outcome> {
  const session = await h2session(t, `http://127.0.0.1:${port}`);
  const answer = await h2request(session, { ':path': target, ':authority': 'a.test' });
  session.close();
  if (answer.status !== 200) return { status: answer.status };
  const echo = JSON.parse(answer.body) as { path: string; headers: Record<string, string[]> };
  return { status: answer.status, route: echo.headers['X-Route']?.[0], path: echo.path };
}

const admin = { status: 200, route: 'admin', path: '/admin' };
const defaults: [string, Outcome][] = [
  ['/public/../admin', admin],
  ['/public/%2e%2e/admin', admin],
  ['/public/%2E%2e/admin', admin],
  ['/public/.%2e/admin', admin],
  ['/public/%2e./admin', admin],
  ['/public/./../admin', admin],
  ['/public/x/../../admin', admin],
  ['/../../admin', admin],
  ['//admin', admin],
  ['/public//../admin', admin],
  ['/%61dmin', admin],
  ['/%61%64%6D%69%6E', admin],
  ['/public/./admin', { status: 200, route: 'public', path: '/public/admin' }],
  ['/public/..', { status: 200, route: 'default', path: '/' }],
  ['/public/%2e', { status: 200, route: 'public', path: '/public/' }],
  ['/public/%252e%252e/admin', { status: 200, route: 'public', path: '/public/%252e%252e/admin' }],
  ['/public/a%20b', { status: 200, route: 'public', path: '/public/a%20b' }],
  ['/public/%c3%a9', { status: 200, route: 'public', path: '/public/%C3%A9' }],
  ['/public/%7euser', { status: 200, route: 'public', path: '/public/~user' }],
  ['/public?next=/../admin', { status: 200, route: 'public', path: '/public?next=/../admin' }],
  ['/public/..?x=%2e%2e', { status: 200, route: 'default', path: '/?x=%2e%2e' }],
  ['/public/%2fadmin', { status: 400 }],
  ['/public/%2F..%2F..%2Fadmin', { status: 400 }],
  ['/public/%5c..%5cadmin', { status: 400 }],
  ['/public\\..\\admin', { status: 400 }],
  ['/public/%00', { status: 400 }],
  ['/public/%zz', { status: 400 }],
  ['/public/%', { status: 400 }],
  ['/public/%2', { status: 400 }],
];

t.test('default policy: normalised before matching, forwarded normalised, unsafe refused (HTTP/1.1)', async (t) => {
  await applyPolicy();
  for (const [target, expected] of defaults) t.same(await viaHttp1(target), expected, target);
});

t.test('default policy over h2c', async (t) => {
  await applyPolicy();
  for (const [target, expected] of defaults) {
    if (target.includes('\\')) continue; // not a valid :path for the client library
    t.same(await viaH2c(t, target), expected, target);
  }
});

t.test('escapedSlashes Keep: encoded separators stay encoded and never separate segments', async (t) => {
  await applyPolicy({ mergeSlashes: true, escapedSlashes: 'Keep' });
  t.same(await viaHttp1('/public/%2f..%2fadmin'), { status: 200, route: 'public', path: '/public/%2F..%2Fadmin' });
  t.same(await viaHttp1('/public/%5c'), { status: 200, route: 'public', path: '/public/%5C' });
  t.same(await viaHttp1('/public/../admin'), admin, 'dot-segments still removed');
});

t.test('escapedSlashes Decode: encoded separators become / before normalising', async (t) => {
  await applyPolicy({ mergeSlashes: true, escapedSlashes: 'Decode' });
  t.same(await viaHttp1('/public%2f..%2fadmin'), admin);
  t.same(await viaHttp1('/public\\..\\admin'), admin);
  t.same(await viaHttp1('/public/%00'), { status: 400 }, '%00 is refused whatever the policy');
});

t.test('mergeSlashes false: empty segments are kept (and so is the route they select)', async (t) => {
  await applyPolicy({ mergeSlashes: false, escapedSlashes: 'Reject' });
  t.same(await viaHttp1('//admin'), { status: 200, route: 'default', path: '//admin' });
  t.same(await viaHttp1('/public/../admin'), admin);
});
