/**
 * MQTT.js options for one upstream connection attempt. Every attempt gets a fresh client with
 * MQTT.js' own reconnect off (reconnectPeriod 0) and a clean session: Tandem's durable
 * checkpoint, not MQTT.js' in-memory outgoing store, decides what is sent again, and Tandem's
 * backoff decides when. Towards a parent hub the password is a SAS token made now, so each
 * attempt (and each renewal) carries a fresh one.
 */
import type { IClientOptions } from 'mqtt';
import { createSasToken, deviceResourceUri } from '../identity/sas.js';
import { limits } from '../limits.js';
import { clientIdOf, type UpstreamTarget } from './config.js';

/** IoT Hub MQTT doc, "Using the MQTT protocol directly (as a device)": the username's api-version. */
export const iotHubApiVersion = '2021-04-12';

export interface AttemptOptions {
  readonly options: IClientOptions;
  /** When the SAS token in `options.password` expires (iothub only). */
  readonly tokenExpiresAtMs: number | undefined;
}

export function attemptOptions(target: UpstreamTarget, edgeDeviceId: string, nowMs: number): AttemptOptions {
  const e = target.endpoint;
  const options: IClientOptions = {
    protocol: e.tls ? 'mqtts' : 'mqtt',
    host: e.host,
    port: e.port,
    protocolVersion: target.mqttVersion,
    clientId: clientIdOf(target, edgeDeviceId),
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: limits.upstreamConnectTimeoutMs,
    keepalive: limits.upstreamKeepaliveSeconds,
    // Nothing may wait inside MQTT.js while offline; the sink only publishes when connected.
    queueQoSZero: false,
    resubscribe: false,
    ...(e.caPem === undefined ? {} : { ca: e.caPem }),
    rejectUnauthorized: true,
  };
  if (target.kind === 'mqtt') {
    return {
      options: {
        ...options,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
      },
      tokenExpiresAtMs: undefined,
    };
  }
  const { hostName, deviceId, sharedAccessKey } = target.device;
  const expirySec = Math.floor(nowMs / 1000) + limits.upstreamSasTokenLifetimeSeconds;
  const password = createSasToken({
    resourceUri: deviceResourceUri(hostName, deviceId),
    key: sharedAccessKey,
    expirySec,
  });
  return {
    options: { ...options, username: `${hostName}/${deviceId}/?api-version=${iotHubApiVersion}`, password },
    tokenExpiresAtMs: expirySec * 1000,
  };
}
