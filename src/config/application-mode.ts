// Application mode's settings (README: application mode), read apart from loadConfig's schema so a
// worker that only runs session jobs needs none of them.
import path from 'node:path';
import { ConfigError } from './config';
import { repoRoot } from './repo-root';

export interface ApplicationModeConfig {
  /** The command launcher's template, run with `bash -c` (APP_LAUNCH_COMMAND); unset: that launcher refuses. */
  launchCommand?: string;
  /** Run after a job's cluster is no longer needed (APP_REAP_COMMAND); unset: the command launcher leaves reaping to the platform. */
  reapCommand?: string;
  /** How long one launch may take, the cluster's start included (APP_LAUNCH_TIMEOUT_MS, default 5 minutes). */
  launchTimeoutMs: number;
  /**
   * Where each launch is recorded: job name, target, REST URL, job id (APP_REGISTRY_DIR, default
   * $STACK_HOME/apps-registry). Every worker must see the same folder, as they see the savepoint dir.
   */
  registryDir: string;
  /** The local launcher (scripts/app-cluster.sh) and the stack it takes Flink from. */
  localLauncher: string;
  stackHome: string;
}

export const APPLICATION_MODE_ENV_KEYS = ['APP_LAUNCH_COMMAND', 'APP_REAP_COMMAND', 'APP_LAUNCH_TIMEOUT_MS', 'APP_REGISTRY_DIR'] as const;

export function loadApplicationModeConfig(stackHome: string, env: NodeJS.ProcessEnv = process.env): ApplicationModeConfig {
  const given = (key: (typeof APPLICATION_MODE_ENV_KEYS)[number]) => env[key]?.trim() || undefined;
  const problems: string[] = [];
  const timeout = Number(given('APP_LAUNCH_TIMEOUT_MS') ?? 300_000);
  if (!Number.isInteger(timeout) || timeout <= 0) problems.push(`APP_LAUNCH_TIMEOUT_MS: must be a whole number of milliseconds above 0, got '${given('APP_LAUNCH_TIMEOUT_MS')}'`);
  const registryDir = given('APP_REGISTRY_DIR') ?? path.join(stackHome, 'apps-registry');
  if (!path.isAbsolute(registryDir)) problems.push(`APP_REGISTRY_DIR: must be an absolute path, got '${registryDir}'`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    launchCommand: given('APP_LAUNCH_COMMAND'),
    reapCommand: given('APP_REAP_COMMAND'),
    launchTimeoutMs: timeout,
    registryDir,
    localLauncher: path.join(repoRoot(), 'scripts', 'app-cluster.sh'),
    stackHome,
  };
}
