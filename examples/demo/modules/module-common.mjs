/**
 * What every demo module does the same way: connect with ModuleClient.fromEnvironment (either a
 * connection string or IoT Edge's workload API, whichever the environment offers), leave
 * reconnecting to the SDK's own retry policy, exit 1 when the SDK gives up, and exit 0 on
 * SIGTERM after closing the client, which is how the agent (and Docker) stops a module.
 */
import deviceSdk from 'azure-iot-device';
import mqttTransport from 'azure-iot-device-mqtt';

const { ModuleClient } = deviceSdk;
const { Mqtt } = mqttTransport;

/** Time a clean close gets on SIGTERM; the agent's SIGKILL comes later (moduleStopGraceMs, 10 s). */
const closeGraceMs = 5000;

export function log(name, text) {
  console.log(`${new Date().toISOString()} [${name}] ${text}`);
}

function errorText(err) {
  return err instanceof Error ? err.stack || err.message : String(err);
}

/** Set on SIGTERM/SIGINT: from then on errors are the expected ends of a closing client. */
let shuttingDown = false;

/** Ends the process with 1 so the supervisor restarts it; nothing here is worth limping on. */
export function fatal(name, err) {
  if (shuttingDown) return;
  console.error(`${new Date().toISOString()} [${name}] fatal: ${errorText(err)}`);
  process.exit(1);
}

/** An integer from the environment, `fallback` when unset; a bad value is fatal at start-up. */
export function intEnv(name, variable, fallback, min) {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    fatal(name, new Error(`${variable} must be an integer >= ${min}, got ${JSON.stringify(raw)}`));
  }
  return value;
}

/** True at most once per `intervalMs`: one log line every few seconds instead of one per message. */
export function throttle(intervalMs) {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < intervalMs) return false;
    last = now;
    return true;
  };
}

/** A direct-method handler that answers 200 with what `compute()` returns. */
export function answer(name, compute) {
  return (_request, response) => {
    let status = 200;
    let payload;
    try {
      payload = compute();
    } catch (err) {
      status = 500;
      payload = { error: err instanceof Error ? err.message : String(err) };
    }
    response.send(status, payload, (err) => {
      if (err) log(name, `method response not sent: ${err.message}`);
    });
  };
}

/**
 * Opens the module's client. The SDK retries transient failures itself; its 'error' and
 * 'disconnect' events mean it stopped retrying, so they are fatal here.
 */
export async function openModuleClient(name) {
  let client;
  const shutdown = (signal) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(name, `${signal}: closing`);
    setTimeout(() => process.exit(0), closeGraceMs).unref();
    const done = () => process.exit(0);
    if (client === undefined) done();
    else client.close().then(done, done);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  try {
    client = await ModuleClient.fromEnvironment(Mqtt);
  } catch (err) {
    fatal(name, err);
  }
  client.on('error', (err) => fatal(name, err));
  client.on('disconnect', (result) => {
    fatal(name, result?.transportObj ?? new Error('disconnected and not reconnecting'));
  });
  await client.open();
  // The SDK takes a connection string over the workload API whenever one is set.
  const viaString = process.env.EdgeHubConnectionString || process.env.IotHubConnectionString;
  const how = viaString ? 'connection string' : 'workload API';
  log(name, `connected (${how})`);
  return client;
}
