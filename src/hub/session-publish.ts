/**
 * What a client's PUBLISH means in IoT Hub's dialect: telemetry, a module output, a twin
 * request or a direct-method response. Each is authorized against the connection's
 * identity before anything is stored (G6).
 */
import type { IPublishPacket } from 'mqtt-packet';
import { type ClientTopic, formatTwinResponse, parseClientTopic } from '../core/topics/index.js';
import { isTandemError, TandemError } from '../errors.js';
import { REASON } from '../protocol/codes.js';
import type { ClientSession } from './client-session.js';
import { ingest } from './ingress.js';
import type { MessageSource } from './message.js';

export function handleDialectPublish(session: ClientSession, packet: IPublishPacket, payload: Buffer): void {
  let topic: ClientTopic;
  try {
    topic = parseClientTopic(packet.topic);
  } catch (err) {
    if (!isTandemError(err)) throw err;
    session.refuse(
      packet,
      err,
      err.code === 'TANDEM_E_TOO_LARGE' ? REASON.implementationSpecific : REASON.topicNameInvalid,
    );
    return;
  }
  const p = session.principal;
  switch (topic.kind) {
    case 'telemetry': {
      if (p.moduleId !== undefined || topic.deviceId !== p.deviceId) {
        forbidden(session, packet);
        return;
      }
      const source: MessageSource = { kind: 'telemetry', deviceId: p.deviceId };
      telemetry(session, packet, payload, source, topic.systemProperties, topic.properties);
      return;
    }
    case 'moduleOutput': {
      if (topic.deviceId !== p.deviceId || topic.moduleId !== p.moduleId) {
        forbidden(session, packet);
        return;
      }
      const outputName = topic.outputName ?? '';
      const source: MessageSource = {
        kind: 'module',
        deviceId: p.deviceId,
        moduleId: topic.moduleId,
        outputName,
      };
      telemetry(session, packet, payload, source, topic.systemProperties, topic.properties);
      return;
    }
    case 'twinGet':
      twinGet(session, packet, topic.rid);
      return;
    case 'twinPatchReported':
      twinReported(session, packet, payload, topic.rid);
      return;
    case 'methodResponse':
      session.hub.methods.respond(p.key, topic.rid, topic.status, payload);
      session.ackWhenDone(packet, Promise.resolve());
      return;
  }
}

function forbidden(session: ClientSession, packet: IPublishPacket): void {
  const err = new TandemError(
    'TANDEM_E_FORBIDDEN',
    `${session.principal.key} may not publish to ${packet.topic.slice(0, 200)}`,
  );
  session.refuse(packet, err, REASON.notAuthorized);
}

function telemetry(
  session: ClientSession,
  packet: IPublishPacket,
  payload: Buffer,
  source: MessageSource,
  systemProperties: Record<string, string>,
  properties: Record<string, string>,
): void {
  const props = packet.retain ? { ...properties, 'mqtt-retain': 'true' } : properties;
  const work = ingest(
    session.hub,
    { source, body: payload, systemProperties, properties: props },
    session.principal.key,
  );
  if (packet.qos === 0) {
    work.catch((err: unknown) => {
      // QoS 0 promises nothing; a refused message is only counted.
      session.hub.metrics.add(
        session.hub.metrics.dropped,
        isTandemError(err, 'TANDEM_E_STORE_FULL') ? 'store_full' : 'store_error',
      );
    });
    return;
  }
  session.ackWhenDone(packet, work);
}

function respond(session: ClientSession, status: number, rid: string, body: unknown, version?: number): void {
  const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  session.connection.send({
    cmd: 'publish',
    topic: formatTwinResponse(status, rid, version),
    payload,
    qos: 0,
    dup: false,
    retain: false,
  });
}

function twinGet(session: ClientSession, packet: IPublishPacket, rid: string): void {
  const work = session.hub.twins.get(session.principal.key);
  session.ackWhenDone(packet, work, (twin) => respond(session, 200, rid, twin));
}

function twinReported(session: ClientSession, packet: IPublishPacket, payload: Buffer, rid: string): void {
  const work = parseJson(payload).then((patch) =>
    session.hub.twins.patchReported(session.principal.key, patch),
  );
  const answered = work.then(
    (version) => ({ status: 204, version, message: undefined }),
    (err: unknown) => {
      if (!isTandemError(err) || (err.code !== 'TANDEM_E_TWIN' && err.code !== 'TANDEM_E_TOO_LARGE'))
        throw err;
      return { status: 400, version: undefined, message: err.message };
    },
  );
  session.ackWhenDone(packet, answered, (r) =>
    respond(
      session,
      r.status,
      rid,
      r.message === undefined ? undefined : { errorCode: 400, message: r.message },
      r.version,
    ),
  );
}

async function parseJson(payload: Buffer): Promise<unknown> {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    throw new TandemError('TANDEM_E_TWIN', 'reported properties patch is not JSON');
  }
}
