/** parseDuration (GEP-2257) against the regular expression it replaced, on listed and random inputs. */
import t from 'tap';
import { parseDuration } from '../../operator/translator/durations.ts';

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

function reference(text: unknown): number | undefined {
  if (typeof text !== 'string' || !DURATION.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(PART)) total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  return total;
}

t.test('parseDuration: listed cases', (t) => {
  t.equal(parseDuration('1h'), 3_600_000);
  t.equal(parseDuration('1m30s'), 90_000);
  t.equal(parseDuration('500ms'), 500);
  t.equal(parseDuration('1h1m1s1ms'), 3_661_001);
  t.equal(parseDuration('0s'), 0);
  t.equal(parseDuration('99999ms'), 99_999);
  for (const bad of ['', 's', '1', '1x', '100000s', '1h1m1s1ms1h', '-1s', '1.5s', ' 1s', '1s ', '1S', 'ms', '1mss', 1, null, undefined, {}]) {
    t.equal(parseDuration(bad), undefined, typeof bad === 'string' ? JSON.stringify(bad) : typeof bad);
  }
  t.end();
});

t.test('parseDuration: agrees with the GEP-2257 regular expression on random strings', (t) => {
  let seed = 42;
  const next = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const alphabet = '0123456789hmsx ';
  for (let i = 0; i < 50_000; i++) {
    const length = Math.floor(next() * 14);
    let text = '';
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)] ?? '';
    const [actual, expected] = [parseDuration(text), reference(text)];
    if (actual !== expected) t.fail(`${JSON.stringify(text)}: ${String(actual)} ≠ ${String(expected)}`);
  }
  t.pass('50,000 random strings agree');
  t.end();
});
