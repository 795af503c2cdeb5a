/** Packet identifiers for QoS 1 messages the hub sends on one connection [MQTT-2.3.1-2]. */
export class PacketIds {
  #next = 1;
  readonly #inUse = new Set<number>();

  /** A free id in 1..65535, or 0 when all are in use (the caller's window is far smaller). */
  take(): number {
    for (let tries = 0; tries < 65535; tries++) {
      const id = this.#next;
      this.#next = id === 65535 ? 1 : id + 1;
      if (!this.#inUse.has(id)) {
        this.#inUse.add(id);
        return id;
      }
    }
    return 0;
  }

  release(id: number): boolean {
    return this.#inUse.delete(id);
  }
}
