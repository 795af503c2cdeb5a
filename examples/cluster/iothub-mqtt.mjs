/**
 * What the two cluster examples share: an MQTT.js client in IoT Hub's dialect (client id,
 * username, SAS token from a connection string) that knows every hub replica's address and
 * fails over between them. MQTT.js tries the next address of `servers` on each reconnect.
 */
import { createHmac } from 'node:crypto';
import mqtt from 'mqtt';

function parseConnectionString(cs) {
  const fields = Object.fromEntries(
    cs.split(';').map((part) => {
      const i = part.indexOf('=');
      return [part.slice(0, i), part.slice(i + 1)];
    }),
  );
  if (!fields.HostName || !fields.DeviceId || !fields.SharedAccessKey)
    throw new Error('not a device connection string');
  return fields;
}

function sasToken(resource, key, lifetimeSec) {
  const sr = encodeURIComponent(resource);
  const se = Math.floor(Date.now() / 1000) + lifetimeSec;
  const sig = createHmac('sha256', Buffer.from(key, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}`;
}

/** Connects to the first answering replica of `servers` ("host:port,host:port"). */
export function connectToCluster(connectionString, servers, clean) {
  const f = parseConnectionString(connectionString);
  const clientId = f.ModuleId ? `${f.DeviceId}/${f.ModuleId}` : f.DeviceId;
  const resource = `${f.HostName}/devices/${f.DeviceId}${f.ModuleId ? `/modules/${f.ModuleId}` : ''}`;
  return {
    ids: f,
    client: mqtt.connect({
      servers: servers.split(',').map((s) => {
        const [host, port] = s.split(':');
        return { host, port: Number(port) };
      }),
      clientId,
      username: `${f.HostName}/${clientId}/?api-version=2021-04-12`,
      password: sasToken(resource, f.SharedAccessKey, 3600),
      protocolVersion: 4,
      clean,
      // Short, so a replica that vanishes without a FIN (a dead node) is noticed in seconds.
      keepalive: 10,
      reconnectPeriod: 500,
      connectTimeout: 3000,
    }),
  };
}
