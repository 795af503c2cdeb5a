/**
 * A real Eclipse Mosquitto broker (Debian's /usr/sbin/mosquitto) standing in for the cloud.
 * Mosquitto cannot pick its own port and report it, so a port is taken from the kernel (bind
 * to 0, close) and written into a generated config; the same port is reused on restart, as a
 * cloud endpoint keeps its address. Persistence is on, so a subscriber's session (and the
 * messages queued for it) survive a stop and start, as a real cloud's would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const mosquittoPath = '/usr/sbin/mosquitto';
/** Start-up is normally milliseconds; this only bounds a broken machine. */
const startDeadlineMs = 20_000;
const stopDeadlineMs = 10_000;

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  #child: ChildProcess | undefined;
  #stderr = '';

  private constructor(port: number, dir: string) {
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
    this.#dir = dir;
  }

  /** Prepares a broker on `port` (default: a free one) without starting it. */
  static async create(port?: number): Promise<Mosquitto> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'tandem-mosquitto-'));
    const m = new Mosquitto(port ?? (await freePort()), dir);
    const conf = [
      `listener ${m.port} 127.0.0.1`,
      'allow_anonymous true',
      // Started as root, mosquitto switches to the user named here (default `mosquitto`), which
      // could not write its database into our directory; for anyone else the line has no effect.
      `user ${os.userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      // Room for everything a test queues for an offline subscriber. Not 0 ("no maximum"):
      // mosquitto 2.0.x then drops queued messages (eclipse-mosquitto/mosquitto #1956, #2879).
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ];
    await writeFile(path.join(dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
    return m;
  }

  static async start(port?: number): Promise<Mosquitto> {
    const m = await Mosquitto.create(port);
    await m.start();
    return m;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the broker and resolves once it accepts TCP connections. */
  async start(): Promise<void> {
    if (this.#child) throw new Error('mosquitto already running');
    const child = spawn(mosquittoPath, ['-c', path.join(this.#dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    child.stderr!.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-10_000);
    });
    let exited = false;
    child.once('exit', () => {
      exited = true;
      if (this.#child === child) this.#child = undefined;
    });
    const deadline = Date.now() + startDeadlineMs;
    while (!(await canConnect(this.port))) {
      if (exited) throw new Error(`mosquitto exited at start: ${this.#stderr}`);
      if (Date.now() > deadline)
        throw new Error(`mosquitto not listening on ${this.port} after ${startDeadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM (mosquitto saves its sessions), then waits for the exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exit = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopDeadlineMs);
    await exit;
    clearTimeout(timer);
    this.#child = undefined;
    // A database that was not saved would silently lose the subscribers' sessions.
    if (this.#stderr.includes('Error saving')) throw new Error(`mosquitto: ${this.#stderr}`);
  }

  /** Stops the broker and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
