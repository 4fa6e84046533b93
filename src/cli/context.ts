// What a command runs with: the config (env, overridden by connection flags) and a Temporal client.
import type { Client } from '@temporalio/client';
import { ConfigError, loadConfig, type Config } from '../config/config';
import { createClient } from '../client/temporal-connection';
import { FLAG_TO_ENV, str, type Parsed } from './args';
import { UsageError } from './errors';

export interface Context {
  config: Config;
  client(): Promise<Client>;
  json: boolean;
  out(line?: string): void;
  close(): Promise<void>;
  /** The workflow this command started or waits on: a lost connection names it. */
  workflowId?: string;
  /** Record it (the process-wide handler in savepointctl.ts names it too). */
  working(workflowId: string): void;
}

/** The workflow the last command of this process worked with (for savepointctl.ts's last-resort handler). */
export let lastWorkflowId: string | undefined;

export function createContext(p: Parsed, env: NodeJS.ProcessEnv = process.env, out = (line = '') => console.log(line)): Context {
  const overridden = { ...env };
  for (const [flag, variable] of Object.entries(FLAG_TO_ENV)) {
    const value = str(p, flag);
    if (value !== undefined) overridden[variable] = value;
  }
  let config: Config;
  try {
    config = loadConfig(overridden);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Name the flag where the value came from one.
    const flagged = err.problems.map((problem) => {
      const flag = Object.entries(FLAG_TO_ENV).find(([f, v]) => problem.startsWith(`${v}:`) && str(p, f) !== undefined)?.[0];
      return flag ? `--${flag} (${problem})` : problem;
    });
    throw new UsageError(flagged.join('; '));
  }
  let client: Promise<Client> | undefined;
  return {
    config,
    working(workflowId: string) {
      this.workflowId = workflowId;
      lastWorkflowId = workflowId;
    },
    json: p.values.json === true,
    out,
    client: () => (client ??= createClient(config)),
    close: async () => {
      if (client) await (await client).connection.close();
    },
  };
}

/** A link to a workflow in the Temporal UI. */
export function workflowUrl(config: Config, workflowId: string, runId?: string): string {
  const ns = encodeURIComponent(config.temporal.namespace);
  return `${config.temporal.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}`;
}
