/**
 * A simulated temperature sensor, after Microsoft's SimulatedTemperatureSensor module: every
 * MessageIntervalMs (default 1000) it sends to output `temperatureOutput`
 *
 *   { machine: { temperature, pressure }, ambient: { temperature, humidity }, timeCreated, seq }
 *
 * as application/json in utf-8. The machine temperature climbs and falls between 20 and 35 °C,
 * so a filter with a threshold in between has something to let through and something to drop.
 * `seq` starts at 1 and increases by one per message within a run. With MessageCount set it
 * stops sending after that many messages and stays connected (a module that exits would be
 * restarted). Direct methods: `reset` (the drift starts over from its low point) and `getStats`.
 *
 * Run by the agent with the environment ModuleClient.fromEnvironment expects.
 */
import deviceSdk from 'azure-iot-device';
import { answer, fatal, intEnv, log, openModuleClient, throttle } from './module-common.mjs';

const { Message } = deviceSdk;

const name = 'sensor';
const output = 'temperatureOutput';
const intervalMs = intEnv(name, 'MessageIntervalMs', 1000, 1);
const messageCount = intEnv(name, 'MessageCount', undefined, 1);
/** Not one line per message: a sensor at 1 Hz would fill the log with nothing new. */
const logEvery = throttle(5000);

const machineLow = 20;
const machineHigh = 35;

function round(value, digits) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function noise(spread) {
  return (Math.random() * 2 - 1) * spread;
}

/** Machine temperature walking up to machineHigh and back down to machineLow, with noise. */
class Drift {
  constructor() {
    this.reset();
  }

  reset() {
    this.machineTemperature = machineLow;
    this.direction = 1;
  }

  next() {
    this.machineTemperature += this.direction * (0.5 + Math.random());
    if (this.machineTemperature >= machineHigh) {
      this.machineTemperature = machineHigh;
      this.direction = -1;
    } else if (this.machineTemperature <= machineLow) {
      this.machineTemperature = machineLow;
      this.direction = 1;
    }
    const t = this.machineTemperature;
    return {
      machine: {
        temperature: round(t, 2),
        // Pressure follows temperature, as in Microsoft's sensor: about 1 to 10.
        pressure: round(1 + ((t - machineLow) / (machineHigh - machineLow)) * 9 + noise(0.1), 2),
      },
      ambient: { temperature: round(21 + noise(0.5), 2), humidity: round(25 + noise(1), 0) },
    };
  }
}

async function main() {
  const drift = new Drift();
  const stats = { sent: 0, seq: 0, startedAt: new Date().toISOString() };
  const client = await openModuleClient(name);
  client.onMethod(
    'reset',
    answer(name, () => {
      drift.reset();
      log(name, 'reset: drift starts over');
      return { reset: true, machineTemperature: drift.machineTemperature };
    }),
  );
  client.onMethod(
    'getStats',
    answer(name, () => ({ ...stats, machineTemperature: round(drift.machineTemperature, 2), intervalMs })),
  );

  const sendOne = async () => {
    const seq = stats.seq + 1;
    const body = { ...drift.next(), timeCreated: new Date().toISOString(), seq };
    const message = new Message(JSON.stringify(body));
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    // A seq is used once even if the send fails: it stays strictly increasing.
    stats.seq = seq;
    await client.sendOutputEvent(output, message);
    stats.sent += 1;
    if (logEvery()) log(name, `sent seq=${seq} machine.temperature=${body.machine.temperature}`);
  };

  // One send at a time, the next one interval after the last completed: never a backlog.
  const tick = async () => {
    if (messageCount !== undefined && stats.sent >= messageCount) {
      log(name, `sent ${stats.sent} messages (MessageCount); idle, still answering methods`);
      return;
    }
    // The SDK retried already; a send that still fails means the hub is gone for good.
    await sendOne();
    setTimeout(() => tick().catch((err) => fatal(name, err)), intervalMs);
  };
  await tick();
}

main().catch((err) => fatal(name, err));
