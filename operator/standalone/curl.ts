/**
 * Example curl commands for what a DataplaneConfig serves: one per distinct (host, path,
 * method, exact headers, exact query) match of its HTTP listeners, pointed at `address`.
 */
import type { DataplaneConfig } from '../../api-types/dataplane-config.ts';

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function concreteHost(hostname: string | undefined): string {
  if (hostname === undefined) return 'example.com';
  return hostname.startsWith('*.') ? `www.${hostname.slice(2)}` : hostname;
}

export function curlExamples(config: DataplaneConfig, address: string): string[] {
  const lines = new Set<string>();
  for (const listener of config.listeners) {
    if (listener.protocol !== 'HTTP') continue;
    for (const rule of listener.rules) {
      const { match } = rule;
      if (match.path.type === 'RegularExpression') continue;
      if (match.headers.some((header) => header.type !== 'Exact') || match.queryParams.some((query) => query.type !== 'Exact')) continue;
      const host = concreteHost(rule.hostnames[0] ?? listener.hostname);
      const query = match.queryParams.map((param) => `${encodeURIComponent(param.name)}=${encodeURIComponent(param.value)}`).join('&');
      const url = `http://${address}:${listener.port}${match.path.value}${query === '' ? '' : `?${query}`}`;
      const parts = ['curl -si', ...(match.method === undefined ? [] : [`-X ${match.method}`]), `-H ${shellQuote(`Host: ${host}`)}`];
      for (const header of match.headers) parts.push(`-H ${shellQuote(`${header.name}: ${header.value}`)}`);
      parts.push(shellQuote(url));
      lines.add(parts.join(' '));
    }
  }
  return [...lines];
}
