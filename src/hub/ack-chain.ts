/**
 * PUBACKs in the order the PUBLISHes arrived [MQTT-4.6.0-2], each sent only once its own
 * work (a durable append, a twin write) is done, plus ingress flow control: past
 * `pendingMax` unacknowledged messages the socket stops being read until half drain.
 */
export class AckChain {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #paused = false;
  readonly #pendingMax: number;
  readonly #pause: () => void;
  readonly #resume: () => void;

  constructor(pendingMax: number, pause: () => void, resume: () => void) {
    this.#pendingMax = pendingMax;
    this.#pause = pause;
    this.#resume = resume;
  }

  /**
   * `work` has already started (so appends keep their arrival order); `then` runs after
   * every earlier entry's `then`, with the work's outcome.
   */
  push<T>(
    work: Promise<T>,
    then: (outcome: { ok: true; value: T } | { ok: false; error: unknown }) => void,
  ): void {
    this.#pending++;
    if (!this.#paused && this.#pending >= this.#pendingMax) {
      this.#paused = true;
      this.#pause();
    }
    const settled = work.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    this.#tail = this.#tail.then(async () => {
      const outcome = await settled;
      this.#pending--;
      then(outcome);
      if (this.#paused && this.#pending <= this.#pendingMax / 2) {
        this.#paused = false;
        this.#resume();
      }
    });
  }
}
