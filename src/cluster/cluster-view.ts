/**
 * This replica's view of the cluster's workload keys (deployment, assignment, maintenance
 * states, node reports), fed by the membership's one watch of `cluster/`, so it sees them in
 * the store's order. Emits 'changed' after each update.
 */
import { EventEmitter } from 'node:events';
import type { KvChange } from '../store/types.js';
import { adminPrefix, assignmentKey, decodeJson, deploymentKey, nodeStatusPrefix } from './keys.js';
import type { Membership } from './membership.js';
import type { AdminRecord, AssignmentRecord, DeploymentRecord, NodeStatusRecord } from './records.js';

export class ClusterView extends EventEmitter {
  deployment: DeploymentRecord | undefined;
  assignment: AssignmentRecord | undefined;
  readonly admin = new Map<string, AdminRecord>();
  readonly nodeStatus = new Map<string, NodeStatusRecord>();
  /** The highest fencing token seen on an assignment: older leaders' late writes are ignored. */
  #token = 0;

  /** Attach before `membership.start()`: the watch's first entries are the current state. */
  constructor(membership: Membership) {
    super();
    membership.on('change', (c: KvChange) => this.#apply(c));
  }

  #apply(c: KvChange): void {
    if (c.key === deploymentKey) {
      this.deployment = c.value ? decodeJson<DeploymentRecord>(c.value) : undefined;
    } else if (c.key === assignmentKey) {
      const next = c.value ? decodeJson<AssignmentRecord>(c.value) : undefined;
      if (next && next.token < this.#token) return;
      if (next) this.#token = next.token;
      this.assignment = next;
    } else if (c.key.startsWith(adminPrefix)) {
      const node = c.key.slice(adminPrefix.length);
      const value = c.value ? decodeJson<AdminRecord>(c.value) : undefined;
      if (value) this.admin.set(node, value);
      else this.admin.delete(node);
    } else if (c.key.startsWith(nodeStatusPrefix)) {
      const node = c.key.slice(nodeStatusPrefix.length);
      const value = c.value ? decodeJson<NodeStatusRecord>(c.value) : undefined;
      if (value) this.nodeStatus.set(node, value);
      else this.nodeStatus.delete(node);
    } else {
      return;
    }
    this.emit('changed', c.key);
  }
}
