/**
 * Upstream configuration: where `$upstream` messages go. Two kinds:
 * - `mqtt`: a plain MQTT broker standing in for a cloud (mqtt:// or mqtts://);
 * - `iothub`: a parent hub (IoT Hub or a parent Tandem) in IoT Hub's MQTT dialect, reached
 *   with a device connection string.
 * Pure: plain data in (from a config file or CLI flags), a validated target out, or a
 * TANDEM_E_UPSTREAM error that names the field. Secrets never appear in messages.
 */
import { TandemError } from '../errors.js';
import {
  type DeviceConnectionString,
  parseDeviceConnectionString,
  parseHostPort,
} from './connection-string.js';
import { defaultTopicTemplate, parseTopicTemplate, type TopicTemplate } from './topic-template.js';

/** MQTT.js protocolVersion numbers: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export type MqttVersion = 4 | 5;

export interface MqttConfigInput {
  readonly kind: 'mqtt';
  /** `mqtt://host[:port]` (default 1883) or `mqtts://host[:port]` (default 8883). */
  readonly url: string;
  /** PEM of the CA(s) to trust for mqtts://, instead of the system's. */
  readonly caPem?: string;
  readonly username?: string;
  readonly password?: string;
  /** Default `tandem-{edgeDeviceId}`. */
  readonly clientId?: string;
  /** Default `tandem/{edgeDeviceId}/messages`. */
  readonly topic?: string;
  /** Default '5'. */
  readonly mqttVersion?: '5' | '3.1.1';
}

export interface IotHubConfigInput {
  readonly kind: 'iothub';
  /** `HostName=...;DeviceId=...;SharedAccessKey=...[;GatewayHostName=host[:port]]`. */
  readonly connectionString: string;
  /** PEM of the CA(s) to trust (a parent edge's CA), instead of the system's. */
  readonly caPem?: string;
  /** Default true. false = plain MQTT (port 1883): the SAS token crosses the link in clear, so loopback or tests only. */
  readonly tls?: boolean;
  /** Default '3.1.1', what IoT Hub speaks; a Tandem parent also accepts '5'. */
  readonly mqttVersion?: '5' | '3.1.1';
}

export type UpstreamConfigInput = MqttConfigInput | IotHubConfigInput;

export interface NetworkEndpoint {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly caPem: string | undefined;
}

export interface MqttTarget {
  readonly kind: 'mqtt';
  readonly endpoint: NetworkEndpoint;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly clientId: string | undefined;
  readonly topic: TopicTemplate;
  readonly mqttVersion: MqttVersion;
}

export interface IotHubTarget {
  readonly kind: 'iothub';
  readonly endpoint: NetworkEndpoint;
  readonly device: DeviceConnectionString;
  readonly mqttVersion: MqttVersion;
}

export type UpstreamTarget = MqttTarget | IotHubTarget;

/** What status() and logs show of a target: everything but secrets. */
export interface UpstreamTargetInfo {
  readonly kind: 'mqtt' | 'iothub';
  readonly url: string;
  readonly mqttVersion: '5' | '3.1.1';
  readonly topic?: string;
  readonly clientId?: string;
  readonly deviceId?: string;
  readonly hostName?: string;
}

type Obj = Record<string, unknown>;

function fail(field: string, why: string): TandemError {
  return new TandemError('TANDEM_E_UPSTREAM', `upstream.${field}: ${why}`, { details: { field } });
}

function only(input: Obj, allowed: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) throw fail(key, `unknown field (expected one of ${allowed.join(', ')})`);
  }
}

function optionalString(input: Obj, field: string): string | undefined {
  const v = input[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw fail(field, 'expected a non-empty string');
  return v;
}

function readVersion(input: Obj, fallback: MqttVersion): MqttVersion {
  const v = input.mqttVersion;
  if (v === undefined) return fallback;
  if (v === '5') return 5;
  if (v === '3.1.1') return 4;
  throw fail('mqttVersion', 'expected "5" or "3.1.1"');
}

function readCa(input: Obj): string | undefined {
  const pem = optionalString(input, 'caPem');
  // A path passed where contents belong is the likely mistake: say so.
  if (pem !== undefined && !pem.includes('-----BEGIN CERTIFICATE-----'))
    throw fail('caPem', 'expected PEM certificate contents (-----BEGIN CERTIFICATE-----), not a file name');
  return pem;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function readMqttUrl(text: string): { host: string; port: number; tls: boolean } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail('url', `${JSON.stringify(text.slice(0, 100))} is not a URL like mqtt://host:1883`);
  }
  const tls = url.protocol === 'mqtts:';
  if (!tls && url.protocol !== 'mqtt:') throw fail('url', 'the scheme must be mqtt:// or mqtts://');
  // Credentials in a URL end up in logs and `ps`; they have their own fields.
  if (url.username || url.password)
    throw fail('url', 'put credentials in username and password, not in the URL');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash)
    throw fail('url', 'expected no path, query or fragment (the topic is a separate setting)');
  if (url.hostname === '') throw fail('url', 'has no host');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: url.port ? Number(url.port) : tls ? 8883 : 1883, tls };
}

function parseMqtt(input: Obj): MqttTarget {
  only(input, ['kind', 'url', 'caPem', 'username', 'password', 'clientId', 'topic', 'mqttVersion']);
  const urlText = optionalString(input, 'url');
  if (urlText === undefined) throw fail('url', 'is required for kind "mqtt"');
  const { host, port, tls } = readMqttUrl(urlText);
  const caPem = readCa(input);
  if (caPem !== undefined && !tls) throw fail('caPem', 'is only used with mqtts://');
  const username = optionalString(input, 'username');
  const password = optionalString(input, 'password');
  const mqttVersion = readVersion(input, 5);
  // MQTT 3.1.1 has no password without a user name [MQTT-3.1.2-22].
  if (password !== undefined && username === undefined && mqttVersion === 4)
    throw fail('password', 'MQTT 3.1.1 needs a username with a password');
  const topicText = input.topic === undefined ? defaultTopicTemplate : optionalString(input, 'topic')!;
  return {
    kind: 'mqtt',
    endpoint: { host, port, tls, caPem },
    username,
    password,
    clientId: optionalString(input, 'clientId'),
    topic: parseTopicTemplate(topicText),
    mqttVersion,
  };
}

function parseIotHub(input: Obj): IotHubTarget {
  only(input, ['kind', 'connectionString', 'caPem', 'tls', 'mqttVersion']);
  const cs = optionalString(input, 'connectionString');
  if (cs === undefined) throw fail('connectionString', 'is required for kind "iothub"');
  const device = parseDeviceConnectionString(cs);
  if (input.tls !== undefined && typeof input.tls !== 'boolean') throw fail('tls', 'expected true or false');
  const tls = input.tls !== false;
  const caPem = readCa(input);
  if (caPem !== undefined && !tls) throw fail('caPem', 'is only used with tls');
  // Without a gateway the device talks to its hub itself (IoT Hub: port 8883).
  const direct = device.gatewayHost === undefined ? parseHostPort(device.hostName, 'HostName') : undefined;
  const host = device.gatewayHost ?? direct!.host;
  const port = (device.gatewayHost === undefined ? direct!.port : device.gatewayPort) ?? (tls ? 8883 : 1883);
  return { kind: 'iothub', endpoint: { host, port, tls, caPem }, device, mqttVersion: readVersion(input, 4) };
}

/** Validates an upstream configuration; TANDEM_E_UPSTREAM names the field at fault. */
export function parseUpstreamTarget(input: unknown): UpstreamTarget {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new TandemError('TANDEM_E_UPSTREAM', 'upstream: expected an object with a "kind"');
  const obj = input as Obj;
  if (obj.kind === 'mqtt') return parseMqtt(obj);
  if (obj.kind === 'iothub') return parseIotHub(obj);
  throw fail('kind', 'expected "mqtt" or "iothub"');
}

/** The client id a target connects with. */
export function clientIdOf(target: UpstreamTarget, edgeDeviceId: string): string {
  if (target.kind === 'iothub') return target.device.deviceId;
  return target.clientId ?? `tandem-${edgeDeviceId}`;
}

export function describeTarget(target: UpstreamTarget, edgeDeviceId: string): UpstreamTargetInfo {
  const e = target.endpoint;
  const url = `${e.tls ? 'mqtts' : 'mqtt'}://${hostForUrl(e.host)}:${e.port}`;
  const mqttVersion = target.mqttVersion === 5 ? '5' : '3.1.1';
  const clientId = clientIdOf(target, edgeDeviceId);
  if (target.kind === 'mqtt') return { kind: 'mqtt', url, mqttVersion, clientId, topic: target.topic.source };
  return {
    kind: 'iothub',
    url,
    mqttVersion,
    clientId,
    deviceId: target.device.deviceId,
    hostName: target.device.hostName,
  };
}
