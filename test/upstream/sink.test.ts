/**
 * The sink's rules with a stand-in client: the window, PUBACK outcomes (a refusal of the
 * message drops it, any other failure keeps it and fails the connection), draining, and
 * acknowledgements after the sink died being ignored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { HubMessage } from '../../src/hub/message.js';
import type { LogRecord } from '../../src/store/types.js';
import { type SinkHost, UpstreamSink } from '../../src/upstream/sink.js';

type Ack = (err?: Error) => void;

function reasonError(code: number): Error {
  return Object.assign(new Error(`Publish error (${code})`), { code });
}

function setup(windowMax = 2) {
  const acks: Ack[] = [];
  const events: string[] = [];
  const client = {
    connected: true,
    publish: (_t: string, _p: Buffer, _o: unknown, cb: Ack) => void acks.push(cb),
  } as unknown as MqttClient;
  const host: SinkHost = {
    client,
    windowMax,
    format: (msg) => {
      if (msg.id === 'bad') throw new Error('cannot format');
      return { topic: 't', payload: Buffer.from(msg.body), properties: undefined };
    },
    refused: (msg, why) => void events.push(`refused ${msg.id}: ${why}`),
    failed: (err) => void events.push(`failed: ${err.message}`),
    drained: () => void events.push('drained'),
    notify: () => void events.push('notify'),
  };
  const sink = new UpstreamSink(host);
  const done: string[] = [];
  const deliver = (id: string): void =>
    sink.deliver(
      { id, body: Buffer.from(id), systemProperties: {}, properties: {} } as HubMessage,
      {} as LogRecord,
      () => done.push(id),
    );
  return { sink, acks, events, done, deliver, client };
}

test('the window closes at windowMax and a PUBACK reopens it', () => {
  const s = setup(2);
  assert.equal(s.sink.ready, true);
  s.deliver('a');
  s.deliver('b');
  assert.equal(s.sink.ready, false);
  assert.equal(s.sink.inflight, 2);
  s.acks[0]!();
  assert.deepEqual(s.done, ['a']);
  assert.deepEqual(s.events, ['notify'], 'room again is announced');
  assert.equal(s.sink.ready, true);
  (s.client as { connected: boolean }).connected = false;
  assert.equal(s.sink.ready, false, 'never ready while disconnected');
});

test('a PUBACK refusing the message drops it; other failures keep it and fail the connection', () => {
  const s = setup(10);
  s.deliver('too-big');
  s.deliver('forbidden');
  s.acks[0]!(reasonError(0x95));
  s.acks[1]!(reasonError(0x87));
  assert.deepEqual(s.done, ['too-big'], 'only the refused message is done (its checkpoint moves on)');
  assert.match(s.events[0]!, /^refused too-big: .*reason 0x95/);
  assert.match(s.events[1]!, /^failed: /);
});

test('a message that cannot be formatted is refused at once, without publishing', () => {
  const s = setup();
  s.deliver('bad');
  assert.deepEqual(s.done, ['bad']);
  assert.equal(s.acks.length, 0);
  assert.match(s.events[0]!, /refused bad: cannot format/);
});

test('draining stops new messages and reports when the last PUBACK is in', () => {
  const s = setup(5);
  s.deliver('a');
  s.sink.drain();
  assert.equal(s.sink.ready, false);
  assert.deepEqual(s.events, []);
  s.acks[0]!();
  assert.deepEqual(s.events, ['drained']);
});

test('after kill, acknowledgements are ignored (the hub sends those messages again)', () => {
  const s = setup();
  s.deliver('a');
  s.sink.kill();
  s.acks[0]!();
  assert.deepEqual(s.done, []);
  assert.equal(s.sink.ready, false);
});
