// Where a deployment's script or jar may come from: a file inside the deployments root
// (DEPLOYMENTS_ROOT), symlinks resolved, readable by the worker. A path like ../../etc/passwd, or a
// symlink out of the root, is refused before the worker reads a byte of it.
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

export type FileCheck = { ok: true; realPath: string } | { ok: false; problem: string };

/**
 * Resolves `file` as deployJob will open it (relative to the worker's working directory), follows
 * every symlink, and requires the real path to be a readable regular file inside `root`.
 */
export async function deploymentFileInside(root: string, file: string): Promise<FileCheck> {
  const realRoot = await realpath(root).catch(() => undefined);
  if (realRoot === undefined) return { ok: false, problem: `the deployments root ${root} (DEPLOYMENTS_ROOT) does not exist on the worker` };
  const asGiven = path.resolve(file);
  const real = await realpath(asGiven).catch((err: NodeJS.ErrnoException) => err);
  if (real instanceof Error) {
    // A path outside the root is named as such even when it does not exist: no probing outside.
    if (!isInside(realRoot, asGiven) && !isInside(path.resolve(root), asGiven)) return { ok: false, problem: outside(asGiven, root) };
    return { ok: false, problem: real.code === 'ENOENT' ? 'no such file on the worker' : `cannot resolve it (${real.code})` };
  }
  if (!isInside(realRoot, real)) return { ok: false, problem: outside(real, root) };
  const isFile = await stat(real).then((s) => s.isFile(), () => false);
  if (!isFile) return { ok: false, problem: `${real} is not a regular file` };
  const readable = await access(real, constants.R_OK).then(() => true, () => false);
  if (!readable) return { ok: false, problem: `${real} is not readable by the worker` };
  return { ok: true, realPath: real };
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative !== '' && !relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative);
}

const outside = (real: string, root: string) =>
  `it resolves to ${real}, outside the deployments root ${root} (DEPLOYMENTS_ROOT); put the file under the root`;
