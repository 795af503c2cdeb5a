/** `tandem`: the command line. Each command is its own module; this file only dispatches. */
import { isTandemError } from '../errors.js';
import { runDemo } from './demo.js';
import { runIdentity } from './identity.js';
import { runUp } from './up.js';

const USAGE = `Usage: tandem <command> [options]

Commands:
  up [manifest]                      Start the hub in the foreground
  identity create <device>[/<module>] Create an identity and print its connection string
  identity list                      List identities
  identity show <device>[/<module>]  Show an identity's connection string
  demo                               Run the hub with a simulated sensor (the quick start)

Run 'tandem <command> --help' for a command's options.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'up':
        return await runUp(rest);
      case 'identity':
        return await runIdentity(rest);
      case 'demo':
        return await runDemo(rest);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`tandem: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (isTandemError(err)) {
      process.stderr.write(`tandem: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
