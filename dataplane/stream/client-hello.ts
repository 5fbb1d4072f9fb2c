/**
 * Reads the server name (SNI) from the first bytes of a TLS connection without terminating it.
 *
 * Bounded and defensive: the input is untrusted. The parser looks at TLS handshake records only,
 * reassembles a ClientHello split over several records, never reads past a length it checked,
 * gives up beyond `MAX_CLIENT_HELLO_BYTES`, and reports `incomplete` (wait for more bytes),
 * `invalid` (not a TLS ClientHello we accept) or the server name (undefined when the client sent
 * none).
 */

/** Largest ClientHello (handshake message) we wait for; real ones are a few KB at most. */
export const MAX_CLIENT_HELLO_BYTES = 32 * 1024;

export type ClientHelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'hello'; readonly serverName: string | undefined };

const INCOMPLETE: ClientHelloResult = { kind: 'incomplete' };

function invalid(reason: string): ClientHelloResult {
  return { kind: 'invalid', reason };
}

const RECORD_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXTENSION_SERVER_NAME = 0x0000;
const NAME_TYPE_HOST = 0x00;
const MAX_RECORD_LENGTH = 16384 + 2048;

/**
 * Collects the handshake bytes carried by the records at the start of `data`: enough for the
 * ClientHello's 4-byte header plus its body, or INCOMPLETE/invalid.
 */
function handshakeBytes(data: Uint8Array): Uint8Array | ClientHelloResult {
  const parts: Uint8Array[] = [];
  let collected = 0;
  let needed = -1;
  let offset = 0;
  for (;;) {
    if (data.length - offset < 5) return INCOMPLETE;
    if (data[offset] !== RECORD_HANDSHAKE) return invalid('not a TLS handshake record');
    if (data[offset + 1] !== 0x03) return invalid('unknown record version');
    const length = ((data[offset + 3] as number) << 8) | (data[offset + 4] as number);
    if (length === 0 || length > MAX_RECORD_LENGTH) return invalid('bad record length');
    const available = Math.min(length, data.length - offset - 5);
    parts.push(data.subarray(offset + 5, offset + 5 + available));
    collected += available;
    if (needed === -1 && collected >= 4) {
      const head = parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts, collected);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid('first handshake message is not a ClientHello');
      needed = 4 + (((head[1] as number) << 16) | ((head[2] as number) << 8) | (head[3] as number));
      if (needed > MAX_CLIENT_HELLO_BYTES) return invalid('ClientHello too large');
    }
    if (needed !== -1 && collected >= needed) return concat(parts, collected).subarray(0, needed);
    if (available < length) return INCOMPLETE;
    offset += 5 + length;
    if (offset > MAX_CLIENT_HELLO_BYTES + 5 * 8) return invalid('ClientHello spread over too many records');
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A cursor that refuses to read past `end`. */
class Reader {
  readonly #data: Uint8Array;
  #at: number;
  readonly #end: number;

  constructor(data: Uint8Array, start: number, end: number) {
    this.#data = data;
    this.#at = start;
    this.#end = end;
  }

  get remaining(): number {
    return this.#end - this.#at;
  }

  u8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.#data[this.#at++];
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const value = ((this.#data[this.#at] as number) << 8) | (this.#data[this.#at + 1] as number);
    this.#at += 2;
    return value;
  }

  /** A sub-reader over the next `length` bytes, advancing past them. */
  take(length: number): Reader | undefined {
    if (length > this.remaining) return undefined;
    const sub = new Reader(this.#data, this.#at, this.#at + length);
    this.#at += length;
    return sub;
  }

  bytes(): Uint8Array {
    return this.#data.subarray(this.#at, this.#end);
  }
}

/** A DNS host name as SNI allows it: LDH labels (underscore tolerated), no trailing dot, ≤ 253. */
function hostName(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.length > 253) return undefined;
  let name = '';
  let labelLength = 0;
  for (const byte of bytes) {
    const lower = byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte;
    const isLabelChar = (lower >= 0x61 && lower <= 0x7a) || (lower >= 0x30 && lower <= 0x39) || lower === 0x2d || lower === 0x5f;
    if (lower === 0x2e) {
      if (labelLength === 0) return undefined;
      labelLength = 0;
    } else if (isLabelChar) {
      if (++labelLength > 63) return undefined;
    } else {
      return undefined;
    }
    name += String.fromCharCode(lower);
  }
  return labelLength === 0 ? undefined : name;
}

function serverNameExtension(ext: Reader): ClientHelloResult {
  const listLength = ext.u16();
  const list = listLength === undefined ? undefined : ext.take(listLength);
  if (list === undefined || ext.remaining !== 0) return invalid('malformed server_name extension');
  while (list.remaining > 0) {
    const type = list.u8();
    const length = list.u16();
    const name = length === undefined ? undefined : list.take(length);
    if (type === undefined || name === undefined) return invalid('malformed server_name entry');
    if (type === NAME_TYPE_HOST) {
      const host = hostName(name.bytes());
      return host === undefined ? invalid('server name is not a host name') : { kind: 'hello', serverName: host };
    }
  }
  return { kind: 'hello', serverName: undefined };
}

/** Parses the start of a connection; call again with more bytes while it answers `incomplete`. */
export function parseClientHello(data: Uint8Array): ClientHelloResult {
  const handshake = handshakeBytes(data);
  if (!(handshake instanceof Uint8Array)) return handshake;
  const body = new Reader(handshake, 4, handshake.length);
  const major = body.u8();
  body.u8();
  if (major !== 0x03) return invalid('unknown ClientHello version');
  if (body.take(32) === undefined) return invalid('truncated random');
  const sessionIdLength = body.u8();
  if (sessionIdLength === undefined || sessionIdLength > 32 || body.take(sessionIdLength) === undefined) return invalid('bad session id');
  const suitesLength = body.u16();
  if (suitesLength === undefined || suitesLength < 2 || suitesLength % 2 !== 0 || body.take(suitesLength) === undefined) return invalid('bad cipher suites');
  const compressionLength = body.u8();
  if (compressionLength === undefined || compressionLength < 1 || body.take(compressionLength) === undefined) return invalid('bad compression methods');
  if (body.remaining === 0) return { kind: 'hello', serverName: undefined };
  const extensionsLength = body.u16();
  const extensions = extensionsLength === undefined ? undefined : body.take(extensionsLength);
  if (extensions === undefined) return invalid('bad extensions length');
  let serverName: ClientHelloResult = { kind: 'hello', serverName: undefined };
  let seenServerName = false;
  while (extensions.remaining > 0) {
    const type = extensions.u16();
    const length = extensions.u16();
    const ext = length === undefined ? undefined : extensions.take(length);
    if (type === undefined || ext === undefined) return invalid('truncated extension');
    if (type === EXTENSION_SERVER_NAME) {
      if (seenServerName) return invalid('duplicate server_name extension');
      seenServerName = true;
      serverName = serverNameExtension(ext);
      if (serverName.kind === 'invalid') return serverName;
    }
  }
  return serverName;
}
