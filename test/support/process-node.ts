/**
 * A Tandem hub as a real child process (`tandem up`), so tests can SIGKILL it and start it
 * again on the same data directory. Ports come from the ports file the hub writes once it
 * listens; the banner on stdout says when that is.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nodeArgs } from './paths.js';

export interface HubPorts {
  readonly mqtt: number;
  readonly mqtts: number;
  readonly api: number;
}

export class HubProcess {
  readonly dataDir: string;
  #child: ChildProcess | undefined;
  #stderr = '';

  readonly #agent: boolean;

  /** `agent`: run the agent too (the manifest is a whole deployment); default hub only. */
  constructor(dataDir: string, options: { agent?: boolean } = {}) {
    this.dataDir = dataDir;
    this.#agent = options.agent ?? false;
  }

  /** Runs `tandem <args>` to completion (e.g. `identity create`), returning stdout; throws on failure. */
  static async cli(args: string[]): Promise<string> {
    const r = await runTandem(args);
    if (r.code !== 0) throw new Error(`tandem ${args.join(' ')} exited ${r.code}: ${r.err}`);
    return r.out;
  }

  async writeManifest(manifest: unknown): Promise<string> {
    const file = path.join(this.dataDir, 'manifest.json');
    await writeFile(file, JSON.stringify(manifest));
    return file;
  }

  /** Starts `tandem up`; resolves with its ports once it listens. Same ports on restart when given. */
  async start(manifestFile: string | undefined, ports?: HubPorts): Promise<HubPorts> {
    const args = [
      ...nodeArgs('src/cli/run'),
      'up',
      ...(manifestFile ? [manifestFile] : []),
      // Hub-only unless asked: such manifests route to modules the tests connect themselves.
      ...(this.#agent ? [] : ['--no-agent']),
      '--data-dir',
      this.dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(ports?.mqtts ?? 0),
      '--plain-port',
      String(ports?.mqtt ?? 0),
      '--api-port',
      String(ports?.api ?? 0),
      '--hub-name',
      'test-hub.local',
      '--device-id',
      'edge1',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stderr!.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-20_000);
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(' is up')) resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`tandem up exited ${code} before listening: ${this.#stderr}`)),
      );
    });
    const file = JSON.parse(await readFile(path.join(this.dataDir, 'ports.json'), 'utf8')) as HubPorts & {
      pid: number;
    };
    if (file.pid !== child.pid) throw new Error('ports file is not from this process');
    return { mqtt: file.mqtt, mqtts: file.mqtts, api: file.api };
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** SIGKILL: no shutdown code runs, as in a power cut of the process. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}

/** Runs `tandem <args>` as a child process to completion. */
export async function runTandem(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, [...nodeArgs('src/cli/run'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  return { code, out, err };
}

/** Key of an identity from the connection string `tandem identity create` printed. */
export function keyFromConnectionString(cs: string): string {
  const m = /SharedAccessKey=([^;]+)/.exec(cs);
  if (!m?.[1]) throw new Error(`no SharedAccessKey in ${cs}`);
  return m[1];
}
