/** `tandem monitor`: every message the hub routes, one line each, until Ctrl-C. */
import type { MonitorEvent, MonitorSkipped } from '../api/types.js';
import { ApiClient } from './api-client.js';
import { DEFAULT_DATA_DIR, dataDirOf, parse, positionals, untilInterrupted } from './options.js';
import { paint, useColor } from './output.js';

const USAGE = `Usage: tandem monitor [options]

Prints each message the hub stores as it arrives: time, sender -> endpoints, application
properties and the body (cut short). Runs until Ctrl-C.

Options:
  --data-dir DIR   Data directory of the instance (default ${DEFAULT_DATA_DIR})
  --module M       Only messages from or to module (or device) M
  --json           One JSON object per message (NDJSON), as the API sends it
  -h, --help       Show this help
`;

/** Body characters shown on a line; the API already cut bodies to limits.monitorBodyBytesMax. */
const BODY_CHARS_SHOWN = 200;

/** Control characters (newlines...) shown escaped, so one message stays one line. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping them is the point
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

export function formatMonitorEvent(e: MonitorEvent, color: boolean): string {
  const time = Number.isNaN(Date.parse(e.time)) ? e.time : new Date(e.time).toISOString().slice(11, 23);
  const from = e.output === undefined ? e.source : `${e.source} (${e.output})`;
  const to = e.to.length > 0 ? e.to.join(', ') : '(no route)';
  const props = Object.entries(e.properties).map(([k, v]) => `${k}=${v}`);
  let body = e.bodyEncoding === 'base64' ? `base64:${e.body}` : oneLine(e.body);
  const cut = e.bodyTruncated || body.length > BODY_CHARS_SHOWN;
  if (body.length > BODY_CHARS_SHOWN) body = body.slice(0, BODY_CHARS_SHOWN);
  return [
    paint(color, 'dim', time),
    `${paint(color, 'cyan', oneLine(from))} -> ${oneLine(to)}`,
    props.length > 0 ? oneLine(`{${props.join(', ')}}`) : '',
    `${body}${cut ? `… (${e.bodyBytes} bytes)` : ''}`,
  ]
    .filter(Boolean)
    .join('  ');
}

/** Splits an NDJSON stream into lines, keeping a partial last line for the next chunk. */
function lineSplitter(onLine: (line: string) => void): (text: string) => void {
  let pending = '';
  return (text) => {
    pending += text;
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim() !== '') onLine(line);
      nl = pending.indexOf('\n');
    }
  };
}

export async function runMonitor(argv: string[]): Promise<number> {
  const args = parse(
    argv,
    { 'data-dir': { type: 'string' }, module: { type: 'string', short: 'm' }, json: { type: 'boolean' } },
    USAGE,
  );
  if (!args) return 0;
  positionals(args, [], 0, USAGE);
  const json = args.values.json === true;
  const filter = args.values.module as string | undefined;
  const color = useColor();
  const client = await ApiClient.open(dataDirOf(args));
  const url = `/api/v1/monitor${filter ? `?filter=${encodeURIComponent(filter)}` : ''}`;
  const onLine = (line: string): void => {
    if (json) return void process.stdout.write(`${line}\n`);
    const parsed = JSON.parse(line) as MonitorEvent | MonitorSkipped;
    if ('skipped' in parsed) {
      process.stderr.write(`tandem: ${parsed.skipped} messages not shown: output was read too slowly\n`);
      return;
    }
    process.stdout.write(`${formatMonitorEvent(parsed, color)}\n`);
  };
  await client.stream(url, lineSplitter(onLine), untilInterrupted(), () =>
    process.stderr.write(
      `monitoring ${filter ? `messages from or to ${filter}` : 'all messages'}; Ctrl-C stops\n`,
    ),
  );
  return 0;
}
