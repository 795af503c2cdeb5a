/**
 * FROM paths. edgeHub matches by prefix, ignoring case (Routing.Core/messageSources:
 * CustomMessageSource.Create, BaseMessageSource.Match): the route path loses trailing `*` and
 * `/` and gains one `/`; a message's own path is `/messages/` for device telemetry and
 * `/messages/modules/{m}/outputs/{o}/` for a module output, and it matches when it starts with
 * the route's. So `/messages/modules/m` and `/messages/modules/m/*` are the same source.
 */
import type { MessageSource } from '../../hub/message.js';
import type { RouteSource, SourceSelection } from './ast.js';

function trimEnd(text: string, c: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === c) end--;
  return text.slice(0, end);
}

/** CustomMessageSource.Create followed by BaseMessageSource's AppendSingleTrailingSlash. */
function normalize(path: string): string {
  let p = trimEnd(path.trim(), '*');
  if (p.length > 1) p = trimEnd(p, '/');
  return `${trimEnd(p.trim(), '/')}/`;
}

function classify(normalized: string): SourceSelection {
  const parts = normalized === '/' ? [] : normalized.slice(1, -1).split('/');
  const word = (i: number): string => parts[i]?.toLowerCase() ?? '';
  const n = parts.length;
  if (n === 0) return { kind: 'all' };
  if (n === 1 && word(0) === 'twinchangenotifications') return { kind: 'twinChangeNotifications' };
  if (word(0) !== 'messages') return { kind: 'other' };
  if (n === 1) return { kind: 'messages' };
  if (word(1) !== 'modules') return { kind: 'other' };
  if (n === 2) return { kind: 'modules' };
  const moduleId = parts[2]!;
  if (n === 3) return { kind: 'module', moduleId };
  if (word(3) !== 'outputs') return { kind: 'other' };
  if (n === 4) return { kind: 'outputs', moduleId };
  if (n === 5) return { kind: 'output', moduleId, outputName: parts[4]! };
  return { kind: 'other' };
}

export function makeRouteSource(path: string): RouteSource {
  const normalized = normalize(path);
  return { path, selects: classify(normalized), prefix: normalized.toLowerCase() };
}

/**
 * A message's path as edgeHub's RoutingMessageConverter.GetMessageSource builds it, lower-cased.
 * A module message without an output name is `/messages/modules/{m}/` (ModuleMessageSource.Create(moduleId)).
 */
export function messagePath(from: MessageSource): string {
  if (from.kind === 'telemetry') return '/messages/';
  const out = from.outputName === '' ? '' : `outputs/${from.outputName}/`;
  return `/messages/modules/${from.moduleId}/${out}`.toLowerCase();
}

export function matchSource(source: RouteSource, from: MessageSource): boolean {
  return messagePath(from).startsWith(source.prefix);
}
