// The one place a deployment target's driver is chosen.
import type { ApplicationModeConfig } from '../../src/config/application-mode';
import type { DeploymentTarget } from '../../src/domain/deployment-target';
import { commandTarget } from './command';
import { localTarget } from './local';
import type { TargetDriver } from './target';

export type ApplicationTarget = Extract<DeploymentTarget, { kind: 'application' }>;

export function applicationDrivers(config: ApplicationModeConfig): Record<ApplicationTarget['launcher'], TargetDriver> {
  return { local: localTarget(config), command: commandTarget(config) };
}
