/** A long-running `tandem` child (monitor, logs -f, status --watch): read its output as it comes, then stop it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { nodeArgs } from '../support/paths.js';

export class TandemChild {
  out = '';
  err = '';
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.#child = spawn(process.execPath, [...nodeArgs('src/cli/run'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    this.#child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.#child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.#exited = once(this.#child, 'exit').then(([code]) => code as number | null);
  }

  /** Waits until `cond` holds on the output so far; fails with what was seen. */
  async waitFor(cond: (c: TandemChild) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond(this)) {
      if (Date.now() > deadline || this.#child.exitCode !== null)
        throw new Error(
          `waiting for ${what}: stdout=${JSON.stringify(this.out)} stderr=${JSON.stringify(this.err)}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ctrl-C, then the exit code. */
  async interrupt(): Promise<number | null> {
    if (this.#child.exitCode === null) this.#child.kill('SIGINT');
    return this.#exited;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }
}

/** Any ANSI escape sequence (colour, cursor movement). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding escapes is the point
export const ANSI = /\u001b\[/;
