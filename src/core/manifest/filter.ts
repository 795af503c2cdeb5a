/**
 * A manifest cut down to some of its modules: what one cluster node runs. Routes and edgeHub
 * settings stay whole (every hub replica routes every message); module twins go with their
 * module. Pure; the input is a manifest readDeployment accepted.
 */
import { isRecord } from './json-path.js';

const SYSTEM_KEYS = new Set(['$edgeAgent', '$edgeHub']);

export function manifestWithModules(manifest: unknown, keep: ReadonlySet<string>): unknown {
  const copy = structuredClone(manifest) as Record<string, unknown>;
  // `az iot edge` deployments wrap modulesContent in `content` (read-deployment.ts).
  const outer = isRecord(copy.content) ? copy.content : copy;
  if (!isRecord(outer.modulesContent)) return copy;
  const content = outer.modulesContent;
  const agent = content.$edgeAgent;
  const desired = isRecord(agent) ? agent['properties.desired'] : undefined;
  if (isRecord(desired) && isRecord(desired.modules)) {
    desired.modules = Object.fromEntries(Object.entries(desired.modules).filter(([name]) => keep.has(name)));
  }
  for (const key of Object.keys(content)) {
    if (!SYSTEM_KEYS.has(key) && !keep.has(key)) delete content[key];
  }
  return copy;
}
