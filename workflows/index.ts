// The workflow registry the worker bundles: re-export each workflow file here.
export { upgradeWorkflow } from './upgrade';
