/**
 * Keeps the `$edgeAgent` twin's reported properties true: after changes settle, it builds
 * the whole report, diffs it against what the twin holds, and sends only the difference
 * (modules that left the deployment become null, as a twin patch removes them).
 */

import os from 'node:os';
import type { ModuleSpec } from '../core/manifest/deployment.js';
import type { Hub } from '../hub/hub.js';
import { type JsonObject, patchBetween } from '../hub/twin-document.js';
import type { SupervisorStatus } from './module-supervisor.js';
import { edgeAgentReported } from './reported.js';

/** Changes within this time are reported together: a crash loop should not flood the twin. */
const SETTLE_MS = 200;

export interface ReportedPublisherOptions {
  readonly hub: Hub;
  readonly identity: string;
  modules(): readonly SupervisorStatus[];
  specs(): Readonly<Record<string, ModuleSpec>>;
  log(level: 'info' | 'warn', message: string): void;
}

export class ReportedPublisher {
  readonly #o: ReportedPublisherOptions;
  readonly #startedAt = new Date().toISOString();
  #desiredStatus = { code: 200, description: '' };
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: ReportedPublisherOptions) {
    this.#o = options;
  }

  setDesiredStatus(code: number, description: string): void {
    this.#desiredStatus = { code, description };
    this.schedule();
  }

  schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#publish());
    }, SETTLE_MS);
  }

  /** Sends what is pending now, then stops. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#running = this.#running.then(() => this.#publish());
    }
    await this.#running;
  }

  async #publish(): Promise<void> {
    try {
      const report = edgeAgentReported({
        modules: this.#o.modules(),
        specs: this.#o.specs(),
        lastDesiredStatus: this.#desiredStatus,
        platform: { os: os.platform(), architecture: os.arch(), version: process.version },
        startedAt: this.#startedAt,
      }) as JsonObject;
      const current = (await this.#o.hub.getTwin(this.#o.identity)).reported;
      const patch = patchBetween(current, report);
      if (Object.keys(patch).length > 0) await this.#o.hub.patchReported(this.#o.identity, patch);
    } catch (err) {
      this.#o.log('warn', `reporting $edgeAgent properties failed: ${String(err)}`);
    }
  }
}
