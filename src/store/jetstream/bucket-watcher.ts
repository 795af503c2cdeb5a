/**
 * A bucket watch that lives as long as its owner wants it. The ordered consumer under it
 * resumes by itself after reconnects and leader changes (follower.ts); if it ends anyway
 * (it gave up recreating itself), the watch starts over after limits.jetstreamWatchRestartMs
 * and delivers every current entry again, as WatchableKeyValue.watch promises.
 */
import { limits } from '../../limits.js';
import type { Follower } from './follower.js';
import { type Bucket, type RawEntry, watchBucket } from './kv-bucket.js';

export interface BucketWatcherOptions {
  readonly bucket: Bucket;
  readonly onEntry: (entry: RawEntry, initial: boolean) => void;
  /** False once the connection is closed: nothing to restart then. */
  readonly alive: () => boolean;
}

export class BucketWatcher {
  readonly #o: BucketWatcherOptions;
  #follower: Follower | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(o: BucketWatcherOptions) {
    this.#o = o;
  }

  /** Resolves once the initial entries were delivered. */
  static async start(o: BucketWatcherOptions): Promise<BucketWatcher> {
    const w = new BucketWatcher(o);
    w.#follower = await watchBucket(o.bucket, o.onEntry);
    w.#supervise(w.#follower);
    return w;
  }

  #supervise(follower: Follower): void {
    void follower.ended().then(() => {
      if (this.#stopped || follower.stopped || !this.#o.alive()) return;
      this.#o.bucket.log(
        'warn',
        `store: the watch of bucket ${this.#o.bucket.name} ended; starting it again`,
      );
      this.#scheduleRestart();
    });
  }

  #scheduleRestart(): void {
    this.#timer = setTimeout(() => void this.#restart(), limits.jetstreamWatchRestartMs);
    this.#timer.unref();
  }

  async #restart(): Promise<void> {
    if (this.#stopped || !this.#o.alive()) return;
    try {
      const follower = await watchBucket(this.#o.bucket, this.#o.onEntry);
      if (this.#stopped) {
        await follower.stop();
        return;
      }
      this.#follower = follower;
      this.#supervise(follower);
    } catch (err) {
      this.#o.bucket.log(
        'warn',
        `store: restarting the watch of bucket ${this.#o.bucket.name} failed: ${String(err)}`,
      );
      this.#scheduleRestart();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#follower?.stop();
  }
}
