/**
 * Debian's Eclipse Mosquitto inside a lab namespace: a plain MQTT broker for trying the client
 * scripts (and failover between brokers) without a hub. Same configuration choices as
 * test/upstream/support/mosquitto.ts, but listening on the namespace's own port 1883.
 */
import { rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../../support/wait.js';
import type { LabNs, LabProcess, NetLab } from './netns.js';

export const mosquittoPath = '/usr/sbin/mosquitto';
export const mqttPort = 1883;

export class NsMosquitto {
  readonly ns: LabNs;
  readonly process: LabProcess;
  readonly #dir: string;

  private constructor(ns: LabNs, process: LabProcess, dir: string) {
    this.ns = ns;
    this.process = process;
    this.#dir = dir;
  }

  /** Starts a broker in `ns` and resolves once the test process can connect to it. */
  static async start(lab: NetLab, ns: LabNs): Promise<NsMosquitto> {
    const dir = await lab.tempDir('mosquitto');
    const conf = [
      `listener ${mqttPort} 0.0.0.0`,
      'allow_anonymous true',
      // As root mosquitto would switch to user `mosquitto`; stay who we are.
      `user ${os.userInfo().username}`,
      'persistence false',
      // Not 0: mosquitto 2.0.x drops queued messages with "no maximum" (#1956, #2879).
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ];
    const file = path.join(dir, 'mosquitto.conf');
    await writeFile(file, `${conf.join('\n')}\n`);
    const process = lab.spawn(ns, mosquittoPath, ['-c', file], { logFile: path.join(dir, 'mosquitto.log') });
    const m = new NsMosquitto(ns, process, dir);
    // An exit (bad configuration, port taken) fails at once instead of at the deadline.
    const exited = process.exited.then(() => {
      throw new Error(`mosquitto in ${ns.name} exited: ${process.stderr}`);
    });
    await Promise.race([
      waitFor(`mosquitto in ${ns.name}`, () => lab.connectable(ns.address, mqttPort), 20_000),
      exited,
    ]);
    return m;
  }

  get server(): { host: string; port: number } {
    return { host: this.ns.address, port: mqttPort };
  }

  /** SIGKILL: the broker vanishes without closing its connections cleanly. */
  async kill(): Promise<void> {
    this.process.kill('SIGKILL');
    await this.process.exited;
  }

  async dispose(): Promise<void> {
    await this.process.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
