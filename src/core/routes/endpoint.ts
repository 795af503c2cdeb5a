/**
 * Route sinks: `$upstream` and `BrokeredEndpoint("/modules/{module}/inputs/{input}")`, as
 * edgeHub's EndpointFactory (edge-hub/core/src/Microsoft.Azure.Devices.Edge.Hub.Core/routing) reads them.
 */
import type { Endpoint } from '../../hub/message.js';

/**
 * A BrokeredEndpoint address to an endpoint, or the reason it is not one. Like edgeHub we trim
 * the address and drop one leading and one trailing '/' and need four segments. edgeHub never
 * looks at the first and third segments; we require `modules` and `inputs` (any case) and
 * non-empty names, so a typo like `/module/m/input/i` is an error instead of a silent route.
 */
export function parseEndpointAddress(raw: string): Endpoint | string {
  let address = raw.trim();
  if (address.startsWith('/')) address = address.slice(1);
  if (address.endsWith('/')) address = address.slice(0, -1);
  const items = address.split('/');
  const [modules, moduleId, inputs, inputName] = items;
  const shapeOk =
    items.length === 4 && modules?.toLowerCase() === 'modules' && inputs?.toLowerCase() === 'inputs';
  if (!shapeOk || !moduleId || !inputName) {
    return `endpoint address '${raw}' is not of the form /modules/{moduleId}/inputs/{inputName}`;
  }
  return { kind: 'module', moduleId, inputName };
}

/** The stable stream name of an endpoint: `upstream` or `module/{moduleId}/{inputName}`. */
export function endpointKey(e: Endpoint): string {
  return e.kind === 'upstream' ? 'upstream' : `module/${e.moduleId}/${e.inputName}`;
}

/** The sink as route text. */
export function printEndpoint(e: Endpoint): string {
  return e.kind === 'upstream'
    ? '$upstream'
    : `BrokeredEndpoint("/modules/${e.moduleId}/inputs/${e.inputName}")`;
}
