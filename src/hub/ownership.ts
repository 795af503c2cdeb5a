/**
 * Who may deliver an endpoint, and where its checkpoint lives.
 *
 * On one node the hub always owns every endpoint and checkpoints go to the store
 * (`LocalOwnership`). In a cluster several hub replicas share one log, and an endpoint is
 * delivered by exactly one replica at a time: the one holding its lease (src/cluster), and
 * only while that replica's permission lasts (`permits`).
 */
import type { Checkpoints } from '../store/types.js';

export interface OwnershipHandlers {
  /** This hub now owns the endpoint; delivery resumes after `checkpoint`. */
  granted(checkpoint: number): void;
  /** This hub no longer owns it (taken over, or this replica fenced itself): stop sending now. */
  lost(): void;
}

export interface EndpointOwnership {
  /**
   * True when endpoints are wanted only while a consumer is attached (cluster: the replica
   * where the consumer is connected delivers). False on one node: every endpoint is owned
   * from the start, so expiry sweeps run even with no consumer.
   */
  readonly onDemand: boolean;
  /** This hub wants to deliver `stream`; `handlers` hear about grants and losses until `unwant`. */
  want(stream: string, handlers: OwnershipHandlers): void;
  /**
   * Stops wanting `stream`. If this hub owned it, `checkpoint` is its final progress, left
   * for the next owner (written before the endpoint is free for another replica).
   */
  unwant(stream: string, checkpoint: number | undefined): Promise<void>;
  /** Durably records progress of an owned endpoint; rejects with TANDEM_E_LEASE_LOST if it is no longer owned. */
  save(stream: string, checkpoint: number): Promise<void>;
  /**
   * Optional: whether this hub may send `stream` at this instant. A cluster replica's
   * permission runs out on a clock (endpoint-leases.ts, rule 1), possibly before its `lost`
   * event is handled; absent means "while owned".
   */
  permits?(stream: string): boolean;
  /** The last checkpoint known here for a stream this hub may not own (for queue lengths). */
  knownCheckpoint(stream: string): Promise<number>;
}

/** One node: always the owner; checkpoints in the store's Checkpoints. */
export class LocalOwnership implements EndpointOwnership {
  readonly onDemand = false;
  readonly #checkpoints: Checkpoints;
  readonly #onError: (err: unknown) => void;

  constructor(checkpoints: Checkpoints, onError: (err: unknown) => void) {
    this.#checkpoints = checkpoints;
    this.#onError = onError;
  }

  want(stream: string, handlers: OwnershipHandlers): void {
    // A store that cannot even read a checkpoint is reported; the endpoint stays undelivered.
    void this.#checkpoints.get(stream).then((seq) => handlers.granted(seq), this.#onError);
  }

  async unwant(stream: string, checkpoint: number | undefined): Promise<void> {
    if (checkpoint !== undefined) await this.#checkpoints.set(stream, checkpoint);
  }

  save(stream: string, checkpoint: number): Promise<void> {
    return this.#checkpoints.set(stream, checkpoint);
  }

  knownCheckpoint(stream: string): Promise<number> {
    return this.#checkpoints.get(stream);
  }
}
