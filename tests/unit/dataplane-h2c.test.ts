// Telling HTTP/1.1 from an h2c prior-knowledge connection by its first bytes.
import t from 'tap';
import { classifyPreface } from '../../dataplane/h2c.ts';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

t.test('classifyPreface', (t) => {
  t.equal(classifyPreface(Buffer.concat([preface, Buffer.from([0, 0, 0, 4])])), 'h2', 'the preface followed by a SETTINGS frame');
  t.equal(classifyPreface(preface), 'h2', 'exactly the preface');
  t.equal(classifyPreface(preface.subarray(0, 1)), undefined, '"P" could still be either');
  t.equal(classifyPreface(preface.subarray(0, 10)), undefined, 'a prefix of the preface is undecided');
  t.equal(classifyPreface(Buffer.from('GET / HTTP/1.1\r\n')), 'http1');
  t.equal(classifyPreface(Buffer.from('POST / HTTP/1.1\r\n')), 'http1', 'shares only "P" with the preface');
  t.equal(classifyPreface(Buffer.from('PRI * HTTP/1.1\r\n')), 'http1', 'differs inside the request line');
  t.equal(classifyPreface(Buffer.from('PUT')), 'http1');
  t.end();
});
