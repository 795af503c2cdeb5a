/** `--upstream` and friends: from command-line words to the upstream connector's config. */
import { readFile } from 'node:fs/promises';
import { TandemError } from '../errors.js';
import type { UpstreamConfigInput } from '../upstream/index.js';
import type { ParsedArgs } from './options.js';

export async function upstreamOption(v: ParsedArgs['values']): Promise<UpstreamConfigInput | undefined> {
  const target = v.upstream as string | undefined;
  const caFile = v['upstream-ca'] as string | undefined;
  const topic = v['upstream-topic'] as string | undefined;
  if (target === undefined) {
    if (caFile || topic || v['upstream-plain'])
      throw new TandemError(
        'TANDEM_E_CONFIG',
        '--upstream-ca, --upstream-topic and --upstream-plain need --upstream',
      );
    return undefined;
  }
  const caPem = caFile ? await readCa(caFile) : undefined;
  if (/^mqtts?:\/\//.test(target)) {
    if (v['upstream-plain']) throw new TandemError('TANDEM_E_CONFIG', '--upstream-plain is for a parent hub');
    return { kind: 'mqtt', url: target, ...(caPem ? { caPem } : {}), ...(topic ? { topic } : {}) };
  }
  if (/(^|;)HostName=/i.test(target)) {
    if (topic) throw new TandemError('TANDEM_E_CONFIG', '--upstream-topic is for a broker upstream');
    return {
      kind: 'iothub',
      connectionString: target,
      ...(caPem ? { caPem } : {}),
      tls: !v['upstream-plain'],
    };
  }
  throw new TandemError(
    'TANDEM_E_CONFIG',
    `--upstream must be mqtt://host:port, mqtts://host:port or a device connection string (HostName=...;DeviceId=...;SharedAccessKey=...)`,
  );
}

async function readCa(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TandemError('TANDEM_E_CONFIG', `--upstream-ca ${file}: ${(err as Error).message}`);
  }
}
