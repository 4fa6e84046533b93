import type { Config } from '../config/config';

/**
 * What `npm start` prints once the worker polls: where to look and how to start a workflow.
 * The one place for this text.
 */
export function readyBanner(config: Config, { localStack }: { localStack: boolean }): string {
  const { taskQueue, namespace, uiUrl } = config.temporal;
  return [
    '',
    `Worker running: namespace '${namespace}', task queue '${taskQueue}'.`,
    `  Temporal UI  ${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows`,
    `  Flink UI     ${config.flink.restUrl}`,
    config.approvals.allowedSignersFile
      ? `  Approvals    signed by a key in ${config.approvals.allowedSignersFile} (re-read when it changes)`
      : "  Approvals    NONE POSSIBLE: APPROVERS_ALLOWED_SIGNERS is not set, so no restore's approval can be verified",
    '',
    'Start a workflow:',
    '  npx savepointctl --help',
    `  or "Start Workflow" in the Temporal UI with task queue '${taskQueue}'.`,
    '',
    localStack
      ? 'Ctrl-C stops the worker; the stack keeps running (bash scripts/stack.sh down stops it).'
      : 'Ctrl-C stops the worker.',
    '',
  ].join('\n');
}
