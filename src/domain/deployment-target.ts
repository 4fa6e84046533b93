// Where a job's versions run: the session cluster everything shares (Flink's session mode, today's
// behaviour and the default), or a cluster of their own per version (Flink's application mode, as
// the Flink Kubernetes Operator's FlinkDeployment, native Kubernetes and YARN run jobs). Pure zod:
// bundled into workflow code.
import { z } from 'zod';
import { lazySchema } from './lazy-schema';

/** The target as given; where it may be left out without meaning "session" (a savepoint's job: look everywhere). */
export const GivenDeploymentTargetSchema = lazySchema(() =>
  z
    .union([
      z.object({ kind: z.literal('session') }).strict(),
      z
        .object({
          kind: z.literal('application'),
          /**
           * local: Flink's standalone application mode on this machine (scripts/app-cluster.sh);
           * command: the platform's command (APP_LAUNCH_COMMAND), e.g. a FlinkDeployment applied by kubectl.
           */
          launcher: z.enum(['local', 'command']),
        })
        .strict(),
    ]),
);

/** Where an upgrade or restore starts versions: the session cluster unless said otherwise. */
export const DeploymentTargetSchema = lazySchema(() => GivenDeploymentTargetSchema.default({ kind: 'session' }));
export type DeploymentTarget = z.output<typeof DeploymentTargetSchema>;

export const SESSION_TARGET: DeploymentTarget = { kind: 'session' };

export const targetLabel = (target: DeploymentTarget): string =>
  target.kind === 'session' ? 'session' : `application (${target.launcher} launcher)`;
