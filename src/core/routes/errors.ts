/**
 * Errors for route text. Every problem is reported at the first offending token, 1-based, so
 * an operator can find it in a multi-line manifest: `route "r1": line 2, column 7: expected INTO, found 'INT0'`.
 */
import { TandemError } from '../../errors.js';
import type { Pos } from './ast.js';

/** Where an error is being reported: the route's name (may be empty) and text. */
export interface RouteLabel {
  readonly name: string | undefined;
  readonly text: string;
}

/** Thrown inside the parser and compiler; parseRoute turns it into a TandemError. */
export class RouteProblem extends Error {
  readonly pos: Pos;
  constructor(pos: Pos, message: string) {
    super(message);
    this.name = 'RouteProblem';
    this.pos = pos;
  }
}

export function routeError(label: RouteLabel, problem: RouteProblem): TandemError {
  const who = label.name === undefined || label.name === '' ? 'route' : `route "${label.name}"`;
  const { line, column } = problem.pos;
  return new TandemError(
    'TANDEM_E_ROUTE_SYNTAX',
    `${who}: line ${line}, column ${column}: ${problem.message}`,
    {
      details: { route: label.name ?? '', line, column, text: label.text },
    },
  );
}

/** How a token or value is quoted in messages; long text is cut so a message stays one line. */
export function quote(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  return oneLine.length > 40 ? `'${oneLine.slice(0, 37)}...'` : `'${oneLine}'`;
}
