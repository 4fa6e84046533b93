// `--target session|application [--launcher local|command]`: where the job's versions run, as the
// upgrade's and restore's input takes it (src/domain/deployment-target.ts).
import { str, type Parsed } from './args';
import { UsageError } from './errors';

export const TARGET_FLAGS = {
  target: { type: 'string' },
  launcher: { type: 'string' },
} as const;

export const TARGET_USAGE = `  --target session|application   where the job's versions run: the session cluster (default), or a
                           cluster of their own per version (application mode, README)
  --launcher local|command application mode's launcher: Flink's standalone application mode on the
                           worker's machine (local, default), or APP_LAUNCH_COMMAND (command)`;

/** The input's `target`, or undefined for the default (session). */
export function targetFromFlags(p: Parsed): unknown {
  const target = str(p, 'target');
  const launcher = str(p, 'launcher');
  if (target === undefined || target === 'session') {
    if (launcher !== undefined) throw new UsageError('--launcher goes with --target application');
    return target === undefined ? undefined : { kind: 'session' };
  }
  if (target !== 'application') throw new UsageError(`--target is session or application, got '${target}'`);
  if (launcher !== undefined && launcher !== 'local' && launcher !== 'command') {
    throw new UsageError(`--launcher is local or command, got '${launcher}'`);
  }
  return { kind: 'application', launcher: launcher ?? 'local' };
}
