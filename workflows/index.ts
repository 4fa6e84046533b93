// The workflow registry the worker bundles: re-export each workflow file here.
export { upgradeWorkflow } from './upgrade';
export { takeSavepointWorkflow } from './savepoint';
export { retentionWorkflow } from './retention';
export { listRestorePointsWorkflow, pinRestorePointWorkflow } from './restore-points';
export { restoreWorkflow } from './restore';
