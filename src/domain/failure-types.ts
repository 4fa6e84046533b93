// The failure types our activities raise as non-retryable ApplicationFailures. Workflows match on
// these strings (`err.cause.type`), so they are spelled once, here, in the domain that both layers
// import: workflows never import an activity module for them.
export const FailureType = {
  // Flink
  JobNotFound: 'JobNotFound',
  JobNotRunning: 'JobNotRunning',
  JobNameAmbiguous: 'JobNameAmbiguous',
  InvalidInput: 'InvalidInput',
  UnsupportedFlinkVersion: 'UnsupportedFlinkVersion',
  SavepointFailed: 'SavepointFailed',
  SavepointNotFound: 'SavepointNotFound',
  DeployFailed: 'DeployFailed',
  /** A version an operation may start fails its check before anything is stopped: path, file, SQL or jar. */
  DeploymentCheckFailed: 'DeploymentCheckFailed',
  /** The job has no recent completed checkpoint (crash-looping, checkpoints failing): no savepoint would complete. */
  NoRecentCheckpoint: 'NoRecentCheckpoint',
  /** A Flink or SQL gateway answer that does not match the schema we know (a version mismatch). */
  UnexpectedResponse: 'UnexpectedResponse',
  // Paimon
  TableNotFound: 'TableNotFound',
  TagMissing: 'TagMissing',
  /** createTag: the tag name is taken by another snapshot. */
  TagConflict: 'TagConflict',
  InvalidIdentifier: 'InvalidIdentifier',
  SqlFailed: 'SqlFailed',
  /** A Paimon read (a Flink batch job) would wait for a task slot that every running job holds. */
  NoFreeTaskSlot: 'NoFreeTaskSlot',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];
