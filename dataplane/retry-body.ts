/**
 * Request bodies of retryable requests: a body up to `limit` bytes is read whole before the
 * first attempt so every attempt (and every mirror) can send it again; a longer one is streamed
 * (what was read so far, then the rest) and the request is not retried.
 */
import { PassThrough, Readable } from 'node:stream';

export type CollectedBody =
  | { readonly kind: 'buffered'; readonly body: Buffer }
  | { readonly kind: 'streamed'; readonly body: Readable }
  | { readonly kind: 'failed' };

/**
 * Reads `source` until its end or until more than `limit` bytes arrived, then calls `done` once.
 * A source that errors or closes early gives `failed` (the client is gone).
 */
export function collectBody(source: Readable, limit: number, done: (body: CollectedBody) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (body: CollectedBody): void => {
    if (settled) return;
    settled = true;
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('error', onFailure);
    source.off('close', onFailure);
    done(body);
  };
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    if (size <= limit) return;
    source.pause();
    // The body continues as a stream of what we hold, then the rest of the source.
    const stream = new PassThrough();
    for (const held of chunks) stream.write(held);
    settle({ kind: 'streamed', body: stream });
    source.pipe(stream);
    source.resume();
  };
  const onEnd = (): void => {
    settle({ kind: 'buffered', body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
  };
  const onFailure = (): void => {
    settle({ kind: 'failed' });
  };
  source.on('data', onData);
  source.once('end', onEnd);
  source.once('error', onFailure);
  source.once('close', onFailure);
}

/** A fresh stream of a buffered body, for one more consumer (a mirror). */
export function replay(body: Buffer): Readable {
  return Readable.from([body], { objectMode: false });
}
