/** Real MQTT clients (MQTT.js) that speak IoT Hub's dialect to a hub under test. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { createSasToken } from '../../src/identity/sas.js';

export interface HubAddress {
  readonly hubName: string;
  /** Plain MQTT port on 127.0.0.1 (tests use it unless a test is about TLS). */
  readonly port: number;
  readonly tls?: { readonly ca: string };
}

export interface ClientIdentity {
  readonly deviceId: string;
  readonly moduleId?: string | undefined;
  readonly primaryKey: string;
}

export function sasPassword(hubName: string, id: ClientIdentity, lifetimeSec = 3600): string {
  const resource = `${hubName}/devices/${id.deviceId}${id.moduleId ? `/modules/${id.moduleId}` : ''}`;
  return createSasToken({
    resourceUri: resource,
    key: id.primaryKey,
    expirySec: Math.floor(Date.now() / 1000) + lifetimeSec,
  });
}

export function clientOptions(
  hub: HubAddress,
  id: ClientIdentity,
  extra: IClientOptions = {},
): IClientOptions {
  const clientId = id.moduleId ? `${id.deviceId}/${id.moduleId}` : id.deviceId;
  return {
    clientId,
    username: `${hub.hubName}/${clientId}/?api-version=2021-04-12`,
    password: sasPassword(hub.hubName, id),
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...(hub.tls ? { ca: hub.tls.ca } : {}),
    ...extra,
  };
}

/** Connects and resolves once CONNACK arrived; rejects on a refusal or error. */
export async function connectClient(
  hub: HubAddress,
  id: ClientIdentity,
  extra: IClientOptions = {},
): Promise<MqttClient> {
  const url = `${hub.tls ? 'mqtts' : 'mqtt'}://localhost:${hub.port}`;
  const client = mqtt.connect(url, clientOptions(hub, id, extra));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
  return client;
}

export function telemetryTopic(deviceId: string, bag = ''): string {
  return `devices/${deviceId}/messages/events/${bag}`;
}

export function outputTopic(deviceId: string, moduleId: string, output: string, bag = ''): string {
  return `devices/${deviceId}/modules/${moduleId}/messages/events/$.on=${encodeURIComponent(output)}${bag ? `&${bag}` : ''}`;
}
