/**
 * Consumer checkpoints: one number per consumer, only ever moving forward. The comparison
 * happens inside the write transaction, so two writers (or two processes) racing cannot
 * move a checkpoint back.
 */
import type { Checkpoints } from '../types.js';
import { assertSeq, decodeText, headerOf, numberValue, textKey } from './codec.js';
import type { StoreContext } from './context.js';

export class EmbeddedCheckpoints implements Checkpoints {
  readonly #ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
  }

  async get(consumer: string): Promise<number> {
    const key = textKey(consumer, 'consumer');
    return this.#ctx.read('checkpoint get', () => {
      const value = this.#ctx.env.checkpoints.get(key);
      return value === undefined ? 0 : headerOf(value);
    });
  }

  async set(consumer: string, seq: number): Promise<void> {
    assertSeq(seq, 'checkpoint seq');
    const key = textKey(consumer, 'consumer');
    const db = this.#ctx.env.checkpoints;
    await this.#ctx.write(() => {
      const current = db.get(key);
      if (current !== undefined && headerOf(current) >= seq) return;
      db.putSync(key, numberValue(seq));
    });
  }

  async list(): Promise<Map<string, number>> {
    return this.#ctx.read('checkpoint list', () => {
      const all = new Map<string, number>();
      for (const { key, value } of this.#ctx.env.checkpoints.getRange({})) {
        all.set(decodeText(key), headerOf(value));
      }
      return all;
    });
  }
}
