/**
 * What the publisher and consumer scripts share: their configuration (one JSON argument), the
 * MQTT.js options built from it, and the output: one JSON object per line on stdout, each with
 * `ev` and `t` (this process's clock, ms). The scripts run inside lab namespaces, started by
 * ClientProcess; they speak plain MQTT and know nothing of the hub's credentials.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface CommonConfig {
  /** Tried in turn, one per (re)connection attempt: MQTT.js `servers`. */
  readonly servers: readonly ServerAddress[];
  readonly protocol?: 'mqtt' | 'mqtts';
  /** PEM file of the CA to trust for mqtts. */
  readonly caFile?: string;
  /** TLS server name to verify, when the host is an address. */
  readonly servername?: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  readonly protocolVersion?: 4 | 5;
  readonly clean?: boolean;
  /** Default 300 ms: a failover test wants the next server tried at once. */
  readonly reconnectPeriodMs?: number;
  /** Default 2 s per attempt: a cut server must not hold up the next one for MQTT.js's 30 s. */
  readonly connectTimeoutMs?: number;
  /** Default 5 s: a cut mid-connection is noticed within about 1.5 keepalives. */
  readonly keepaliveSec?: number;
}

export interface PublisherConfig extends CommonConfig {
  readonly topic: string;
  /** Goes into every body as `sender`. */
  readonly sender: string;
  /** Messages per second; 0 or absent: as fast as the in-flight bound allows. */
  readonly ratePerSec?: number;
  /** Most messages published but not yet acknowledged (default 16). */
  readonly inflightMax?: number;
  /** Stop publishing after this many (default: until SIGTERM). */
  readonly count?: number;
  /** First sequence number (default 1). */
  readonly startSeq?: number;
}

export interface ConsumerConfig extends CommonConfig {
  /** Topic filter, subscribed with QoS 1. */
  readonly topic: string;
}

export function readConfig<T extends CommonConfig>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: <script> <json config>');
  return JSON.parse(raw) as T;
}

/** Writes one event line. Pipes to the parent are synchronous on Linux, so none is lost at exit. */
export function emit(ev: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ev, t: Date.now(), ...fields })}\n`);
}

export function mqttOptions(config: CommonConfig, clean: boolean): IClientOptions {
  return {
    servers: config.servers.map((s) => ({ host: s.host, port: s.port })),
    protocol: config.protocol ?? 'mqtt',
    clientId: config.clientId,
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.caFile ? { ca: readFileSync(config.caFile) } : {}),
    ...(config.servername ? { servername: config.servername } : {}),
    protocolVersion: config.protocolVersion ?? 4,
    clean,
    reconnectPeriod: config.reconnectPeriodMs ?? 300,
    connectTimeout: config.connectTimeoutMs ?? 2_000,
    keepalive: config.keepaliveSec ?? 5,
  };
}

/** The address actually reached: with a host name of several addresses, which one answered. */
export function peer(client: MqttClient): string {
  const s = client.stream as Partial<Socket> | undefined;
  return s?.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : 'unknown';
}

/** Reports connection events; `onConnect` runs after the `connect` line. */
export function reportConnection(client: MqttClient, onConnect?: (sessionPresent: boolean) => void): void {
  client.on('connect', (connack) => {
    emit('connect', { server: peer(client), sessionPresent: connack.sessionPresent });
    onConnect?.(connack.sessionPresent);
  });
  client.on('close', () => emit('close'));
  client.on('error', (e) => emit('error', { message: e.message }));
}

/** On SIGTERM: one final line (with `fields()`), then exit without waiting for the broker. */
export function endOnSigterm(client: MqttClient, fields: () => Record<string, unknown>): void {
  process.once('SIGTERM', () => {
    emit('end', fields());
    client.end(true);
    process.exit(0);
  });
}
