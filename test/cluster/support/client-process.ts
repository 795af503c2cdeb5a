/**
 * A publisher or consumer script (./clients/) running in a lab namespace, its JSON lines parsed
 * into events and, when given a recorder, into the history the checker reads. Scripts start the
 * way the test itself runs: TypeScript through tsx from the sources, compiled JavaScript from
 * dist/ (.ts files under test/ compile there; nothing else would be copied).
 */
import { fileURLToPath } from 'node:url';
import type { HistoryRecorder } from '../../support/checker.js';
import type { ConsumerConfig, PublisherConfig } from './clients/common.js';
import type { SdkDeviceConfig } from './clients/sdk-device.js';
import type { Exit, LabProcess, NetLab, NsRef } from './netns.js';

export type { ConsumerConfig, PublisherConfig, ServerAddress } from './clients/common.js';

const fromSources = import.meta.url.endsWith('.ts');
/** Far above a script's start and any failover in a test; only a broken run reaches it. */
const waitDeadlineMs = 30_000;

/** The scripts in ./clients/. */
export type ClientScript = 'publisher' | 'consumer' | 'jetstream-publisher' | 'sdk-device';

/** Node arguments that run a client script, from sources or compiled. */
export function clientScriptArgs(name: ClientScript, config: object): string[] {
  const file = fileURLToPath(new URL(`./clients/${name}${fromSources ? '.ts' : '.js'}`, import.meta.url));
  // Resolved here, so the child finds tsx whatever its working directory.
  const loader = fromSources ? ['--import', import.meta.resolve('tsx')] : [];
  return [...loader, file, JSON.stringify(config)];
}

export interface ClientEvent {
  readonly ev: string;
  readonly t: number;
  readonly seq?: number;
  readonly server?: string;
  readonly topic?: string;
  readonly body?: unknown;
  readonly message?: string;
  readonly [field: string]: unknown;
}

/** A sender's sent and ack lines, as the checker's history. */
function recordSends(sender: string, recorder: HistoryRecorder | undefined): (e: ClientEvent) => void {
  return (e) => {
    if (e.seq === undefined) return;
    if (e.ev === 'sent') recorder?.sent(sender, e.seq, e.t);
    else if (e.ev === 'ack') recorder?.acked(sender, e.seq, e.t);
  };
}

/** Per-message lines are counted and recorded, not kept: a long run prints hundreds of thousands. */
const bulk = new Set(['sent', 'ack', 'msg']);

interface Waiter {
  readonly match: (e: ClientEvent) => boolean;
  readonly resolve: (e: ClientEvent) => void;
}

export class ClientProcess {
  readonly process: LabProcess;
  /** Every line but the per-message ones, in order. */
  readonly events: ClientEvent[] = [];
  /** The server of the latest connect line: what a consumer's messages arrive through. */
  server: string | undefined;
  readonly #counts = new Map<string, number>();
  readonly #waiters = new Set<Waiter>();
  readonly #record: (e: ClientEvent) => void;

  private constructor(process: LabProcess, record: (e: ClientEvent) => void) {
    this.process = process;
    this.#record = record;
    process.onLine((line) => this.#onLine(line));
  }

  /** Starts any client script with its configuration; its lines become events, nothing is recorded. */
  static script(lab: NetLab, ns: NsRef, name: ClientScript, config: object): ClientProcess {
    return new ClientProcess(lab.spawn(ns, process.execPath, clientScriptArgs(name, config)), () => {});
  }

  /** Starts a publisher; its sends and acks go to `recorder` under `config.sender`. */
  static publisher(
    lab: NetLab,
    ns: NsRef,
    config: PublisherConfig,
    recorder?: HistoryRecorder,
  ): ClientProcess {
    const p = lab.spawn(ns, process.execPath, clientScriptArgs('publisher', config));
    return new ClientProcess(p, recordSends(config.sender, recorder));
  }

  /** Starts an Azure IoT SDK device (clients/sdk-device.ts); recorded like a publisher. */
  static sdkDevice(
    lab: NetLab,
    ns: NsRef,
    config: SdkDeviceConfig,
    recorder?: HistoryRecorder,
  ): ClientProcess {
    const p = lab.spawn(ns, process.execPath, clientScriptArgs('sdk-device', config));
    return new ClientProcess(p, recordSends(config.sender, recorder));
  }

  /** Starts a consumer; messages with a {sender, seq} body go to `recorder` as arrivals at `endpoint`. */
  static consumer(
    lab: NetLab,
    ns: NsRef,
    config: ConsumerConfig,
    endpoint: string,
    recorder?: HistoryRecorder,
  ): ClientProcess {
    const p = lab.spawn(ns, process.execPath, clientScriptArgs('consumer', config));
    const client: ClientProcess = new ClientProcess(p, (e) => {
      const body = e.body as { sender?: unknown; seq?: unknown } | undefined;
      if (e.ev !== 'msg' || typeof body?.sender !== 'string' || typeof body.seq !== 'number') return;
      recorder?.arrived(endpoint, body.sender, body.seq, e.t, client.server);
    });
    return client;
  }

  /** How many lines of this kind so far. */
  count(ev: string): number {
    return this.#counts.get(ev) ?? 0;
  }

  /** The first event (already seen or still to come) that matches; rejects after the deadline. */
  waitFor(
    what: string,
    match: (e: ClientEvent) => boolean,
    timeoutMs = waitDeadlineMs,
  ): Promise<ClientEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return this.#next(what, match, timeoutMs);
  }

  /** Resolves once `count(ev)` reaches `n`. */
  async waitForCount(ev: string, n: number, timeoutMs = waitDeadlineMs): Promise<void> {
    if (this.count(ev) >= n) return;
    await this.#next(`${n} ${ev} lines (have ${this.count(ev)})`, () => this.count(ev) >= n, timeoutMs);
  }

  /** SIGTERM: the script prints its `end` line and exits. */
  stop(): Promise<Exit> {
    return this.process.stop();
  }

  #next(what: string, match: (e: ClientEvent) => boolean, timeoutMs: number): Promise<ClientEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const tail = this.process.stderr.slice(-2_000);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what} from ${this.process.command}\n${tail}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(e);
        },
      };
      this.#waiters.add(waiter);
      // A process that is gone will print nothing more: fail now rather than at the deadline.
      void this.process.exited.then((exit) => {
        if (!this.#waiters.has(waiter)) return;
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        reject(new Error(`${this.process.command} exited (${JSON.stringify(exit)}) before ${what}`));
      });
    });
  }

  #onLine(line: string): void {
    if (!line.startsWith('{')) return;
    let e: ClientEvent;
    try {
      e = JSON.parse(line) as ClientEvent;
    } catch {
      return;
    }
    this.#counts.set(e.ev, this.count(e.ev) + 1);
    if (e.ev === 'connect' && typeof e.server === 'string') this.server = e.server;
    if (!bulk.has(e.ev)) this.events.push(e);
    this.#record(e);
    for (const w of [...this.#waiters]) if (w.match(e)) w.resolve(e);
  }
}
