// The route regex dialect shared by the translator and the dataplane: RE2 syntax, whole-value
// matching, linear time, bounded program size.
import t from 'tap';
import { compileRouteRegex, MAX_ROUTE_REGEX_PROGRAM_SIZE, type RouteRegex } from '../../api-types/route-regex.ts';

function compiled(pattern: string): RouteRegex {
  const result = compileRouteRegex(pattern);
  if (!result.ok) throw new Error(`expected ${pattern} to compile: ${result.error}`);
  return result.regex;
}

t.test('matches the whole value, never a part of it', (t) => {
  const regex = compiled('/v[0-9]+');
  t.ok(regex.test('/v12'));
  t.notOk(regex.test('/v12/extra'), 'a longer value does not match');
  t.notOk(regex.test('x/v12'), 'nor a value with a prefix');
  const alternation = compiled('/a|/b');
  t.ok(alternation.test('/a'));
  t.notOk(alternation.test('/a/b'), 'an alternation is anchored as a whole');
  t.end();
});

t.test('RE2 syntax: classes, inline flags, named groups', (t) => {
  t.ok(compiled('(?i)/static/.*\\.CSS').test('/STATIC/site.css'));
  t.ok(compiled('[[:digit:]]+\\d').test('123'));
  t.ok(compiled('(?P<id>[a-f0-9]{8})').test('deadbeef'));
  t.ok(compiled('\\p{Greek}+').test('λόγος'));
  t.end();
});

t.test('backtracking-only syntax is refused with the reason', (t) => {
  for (const pattern of ['(a)\\1', '(?=a)a', '(?!a)b', '(?<=a)b', 'a{2,1}', '(unclosed']) {
    const result = compileRouteRegex(pattern);
    t.equal(result.ok, false, pattern);
    if (!result.ok) t.match(result.error, /error parsing regexp/, `${pattern}: ${result.error}`);
  }
  t.end();
});

t.test('programs larger than the cap are refused', (t) => {
  t.ok(compileRouteRegex('[a-z]{90}').ok, 'just under the cap');
  const result = compileRouteRegex('[a-z]{200}');
  t.equal(result.ok, false);
  if (!result.ok) t.match(result.error, `at most ${MAX_ROUTE_REGEX_PROGRAM_SIZE}`);
  t.end();
});

t.test('catastrophic-on-backtracking patterns run in linear time', (t) => {
  const regex = compiled('/re/(a+)+');
  for (const count of [30, 1_000, 16_000]) {
    const started = performance.now();
    t.notOk(regex.test(`/re/${'a'.repeat(count)}!`), `${count} a's and a mismatch`);
    t.ok(performance.now() - started < 250, `${count} a's answered in ${Math.round(performance.now() - started)} ms`);
  }
  t.ok(regex.test(`/re/${'a'.repeat(30)}`), 'and it still matches what it should');
  t.end();
});

t.test('the worst case at the program cap stays bounded on a 16 KiB value', (t) => {
  // `.*a.{95}` forces the engine to track ~100 threads per character on a random a/b input.
  const regex = compiled('.*a.{95}');
  let value = '';
  for (let i = 0; i < 16_384; i++) value += i % 7 < 3 ? 'a' : 'b';
  regex.test(value);
  const started = performance.now();
  regex.test(`${value}!`);
  const elapsed = performance.now() - started;
  t.ok(elapsed < 1_000, `one 16 KiB match took ${Math.round(elapsed)} ms`);
  t.end();
});
