/**
 * IoT Edge's route language as a pure core: parse `FROM ... [WHERE ...] INTO ...` routes as
 * edgeHub does, and decide per message which endpoints it goes to. No I/O.
 * Reference: Azure/iotedge edge-hub/core/src/Microsoft.Azure.Devices.Routing.Core, and
 * https://learn.microsoft.com/azure/iot-edge/module-composition#declare-routes.
 */
export type {
  BinaryOp,
  CompiledRoute,
  Expr,
  Pos,
  RoutedEndpoint,
  RouteSource,
  RouteSpec,
  RouteTable,
  SourceSelection,
  TableRoute,
  UnaryOp,
  ValueType,
} from './ast.js';
export { endpointKey } from './endpoint.js';
export { evaluateCondition } from './evaluate.js';
export { printExpr, printRoute } from './printer.js';
export { parseRoute } from './route.js';
export { matchSource } from './source.js';
export { parseRoutes, routeMessage, routePriorityDefault } from './table.js';
