/** Gateway API durations (GEP-2257): `1h`, `30s`, `500ms`, `1m30s` — up to four parts of 1–5 digits and a unit. */

const MAX_PARTS = 4;
const MAX_DIGITS = 5;

/**
 * Milliseconds, or `undefined` when the text is not a valid duration
 * (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`). A hand-written scanner: it runs for every rule with
 * timeouts or retries, and allocates nothing.
 */
export function parseDuration(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length === 0) return undefined;
  let total = 0;
  let parts = 0;
  let i = 0;
  while (i < text.length) {
    let value = 0;
    const start = i;
    for (let code = text.charCodeAt(i); code >= 48 && code <= 57; code = text.charCodeAt(++i)) value = value * 10 + (code - 48);
    if (i === start || i - start > MAX_DIGITS || ++parts > MAX_PARTS) return undefined;
    const unit = text[i];
    if (unit === 'h') total += value * 3_600_000;
    else if (unit === 's') total += value * 1000;
    else if (unit === 'm' && text[i + 1] === 's') {
      total += value;
      i++;
    } else if (unit === 'm') total += value * 60_000;
    else return undefined;
    i++;
  }
  return total;
}
