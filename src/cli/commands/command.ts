import type { Options, Parsed } from '../args';
import type { Context } from '../context';

export interface Command {
  name: string;
  summary: string;
  /** The whole --help text. */
  usage: string;
  flags: Options;
  /** Returns the exit code: 0 done, 1 the operation did not succeed. */
  run(p: Parsed, ctx: Context): Promise<number>;
}
