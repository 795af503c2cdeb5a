/**
 * A filter, after Microsoft's filter module sample: messages on input `input1` whose
 * `machine.temperature` is above the threshold go on to output `output1` with the same body,
 * content type and application properties, plus `MessageType: Alert`; the rest are dropped.
 * Every input message is completed, forwarded or not (a malformed body is counted, not
 * retried forever). Messages are handled one at a time, so alerts keep their input order.
 *
 * The threshold is the module twin's desired property `TemperatureThreshold` (default 25); a
 * desired-property patch changes it at once, and the value in force is reported back as the
 * reported property `TemperatureThreshold`. Direct method `getStats`: received, forwarded.
 */
import deviceSdk from 'azure-iot-device';
import { answer, fatal, log, openModuleClient, throttle } from './module-common.mjs';

const { Message } = deviceSdk;

const name = 'filter';
const input = 'input1';
const output = 'output1';
const defaultThreshold = 25;
const logEvery = throttle(5000);

const stats = { received: 0, forwarded: 0, malformed: 0, threshold: defaultThreshold };

/** machine.temperature as a number, or undefined when the body is not such JSON. */
function machineTemperature(message) {
  try {
    const temperature = JSON.parse(message.getData().toString('utf8'))?.machine?.temperature;
    return typeof temperature === 'number' && Number.isFinite(temperature) ? temperature : undefined;
  } catch {
    return undefined;
  }
}

/** The alert: the input's body and application properties ($-prefixed ones are the hub's). */
function alertOf(message) {
  const alert = new Message(message.getData());
  if (message.contentType) alert.contentType = message.contentType;
  if (message.contentEncoding) alert.contentEncoding = message.contentEncoding;
  for (let i = 0; i < message.properties.count(); i++) {
    const { key, value } = message.properties.getItem(i);
    if (!key.startsWith('$') && !key.startsWith('iothub-') && key !== 'MessageType') {
      alert.properties.add(key, value);
    }
  }
  alert.properties.add('MessageType', 'Alert');
  return alert;
}

async function handleInput(client, inputName, message) {
  if (inputName !== input) {
    log(name, `message on unexpected input ${inputName}: completed, ignored`);
  } else {
    stats.received += 1;
    const temperature = machineTemperature(message);
    if (temperature === undefined) stats.malformed += 1;
    else if (temperature > stats.threshold) {
      // Forward before completing: a crash in between repeats the message instead of losing it.
      await client.sendOutputEvent(output, alertOf(message));
      stats.forwarded += 1;
    }
  }
  await client.complete(message);
  if (logEvery()) {
    log(name, `received=${stats.received} forwarded=${stats.forwarded} threshold=${stats.threshold}`);
  }
}

/** Applies the twin's desired TemperatureThreshold and reports the value in force. */
function watchThreshold(twin) {
  let reported;
  const report = (value) => {
    if (reported === value) return;
    reported = value;
    twin.properties.reported.update({ TemperatureThreshold: value }, (err) => {
      if (err) log(name, `reporting TemperatureThreshold failed: ${err.message}`);
    });
  };
  const apply = () => {
    // The merged desired document: a patch that removes the property (null) restores the default.
    const wanted = twin.properties.desired.TemperatureThreshold;
    if (wanted === undefined || wanted === null) stats.threshold = defaultThreshold;
    else if (typeof wanted === 'number' && Number.isFinite(wanted)) stats.threshold = wanted;
    else log(name, `ignoring TemperatureThreshold ${JSON.stringify(wanted)}: not a number`);
    report(stats.threshold);
  };
  twin.on('error', (err) => fatal(name, err));
  // Fired with the whole desired document when registered (and after a reconnect), then per patch.
  twin.on('properties.desired', () => {
    const before = stats.threshold;
    apply();
    if (stats.threshold !== before) log(name, `threshold ${before} -> ${stats.threshold}`);
  });
  apply();
}

async function main() {
  const client = await openModuleClient(name);
  watchThreshold(await client.getTwin());
  client.onMethod(
    'getStats',
    answer(name, () => ({ ...stats })),
  );
  let queue = Promise.resolve();
  client.on('inputMessage', (inputName, message) => {
    queue = queue.then(() => handleInput(client, inputName, message)).catch((err) => fatal(name, err));
  });
  log(name, `filtering ${input} -> ${output} above ${stats.threshold}`);
}

main().catch((err) => fatal(name, err));
