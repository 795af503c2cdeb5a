/**
 * Publishes QoS 1 messages with body {"sender","seq"} on one topic, keeping at most
 * `inflightMax` unacknowledged, at `ratePerSec` or as fast as acknowledgements come. Lines:
 * connect / close / error, sent {seq}, ack {seq}, done (after `count`, all acknowledged) and,
 * on SIGTERM, end {sent, acked}. MQTT.js keeps unacknowledged messages in its store across
 * reconnections and sends them again first, so a failover does not drop them.
 */
import mqtt from 'mqtt';
import {
  emit,
  endOnSigterm,
  mqttOptions,
  type PublisherConfig,
  readConfig,
  reportConnection,
} from './common.js';

const config = readConfig<PublisherConfig>();
const client = mqtt.connect(mqttOptions(config, config.clean ?? true));
const inflightMax = config.inflightMax ?? 16;
const limit = config.count ?? Number.POSITIVE_INFINITY;
const intervalMs = config.ratePerSec ? 1000 / config.ratePerSec : 0;

let nextSeq = config.startSeq ?? 1;
let sent = 0;
let acked = 0;
let inflight = 0;
let nextAtMs = 0;
let pumpScheduled = false;

function publishOne(): void {
  const seq = nextSeq++;
  sent++;
  inflight++;
  emit('sent', { seq });
  client.publish(config.topic, JSON.stringify({ sender: config.sender, seq }), { qos: 1 }, (err) => {
    inflight--;
    if (err) emit('error', { seq, message: err.message });
    else {
      acked++;
      emit('ack', { seq });
    }
    if (sent >= limit && inflight === 0) emit('done', { sent, acked });
    pump();
  });
}

/** Publishes while the in-flight bound and the rate allow; schedules itself for the rate. */
function pump(): void {
  while (sent < limit && inflight < inflightMax) {
    if (intervalMs > 0) {
      const now = Date.now();
      if (now < nextAtMs) {
        if (!pumpScheduled) {
          pumpScheduled = true;
          setTimeout(() => {
            pumpScheduled = false;
            pump();
          }, nextAtMs - now);
        }
        return;
      }
      // At most one message of catch-up after a stall, not a burst for all the time lost.
      nextAtMs = Math.max(nextAtMs + intervalMs, now);
    }
    publishOne();
  }
}

let started = false;
reportConnection(client, () => {
  if (started) return;
  started = true;
  pump();
});
endOnSigterm(client, () => ({ sent, acked, inflight }));
