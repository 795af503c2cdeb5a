/**
 * Subscribes to one topic filter with QoS 1 and reports every message: lines connect / close /
 * error, subscribed {granted}, msg {topic, body, dup} and, on SIGTERM, end {received}. The
 * session is persistent by default (clean=false), so messages queued while it was away arrive on
 * reconnection. It subscribes itself whenever the server has no session for it (first connection,
 * or a failover to a server that never saw it); MQTT.js's own resubscription is off.
 */
import mqtt from 'mqtt';
import {
  type ConsumerConfig,
  emit,
  endOnSigterm,
  mqttOptions,
  readConfig,
  reportConnection,
} from './common.js';

const config = readConfig<ConsumerConfig>();
const client = mqtt.connect({ ...mqttOptions(config, config.clean ?? false), resubscribe: false });
let received = 0;

function body(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

reportConnection(client, (sessionPresent) => {
  if (sessionPresent) return;
  client.subscribe(config.topic, { qos: 1 }, (err, granted) => {
    if (err) emit('error', { message: `subscribe: ${err.message}` });
    else emit('subscribed', { granted: granted?.map((g) => g.qos) ?? [] });
  });
});
client.on('message', (topic, payload, packet) => {
  received++;
  emit('msg', { topic, body: body(payload), dup: packet.dup });
});
endOnSigterm(client, () => ({ received }));
