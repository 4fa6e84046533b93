// Where each application-mode launch runs: one small JSON record per launch (job name, target,
// REST URL, job id), written when the launcher answers. Job ids and REST addresses change with
// every version; the record is how a job id found in a workflow's history leads to its cluster,
// and how a job name leads to the clusters that may run it.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const LaunchRecordSchema = z.object({
  jobName: z.string(),
  launcher: z.enum(['local', 'command']),
  deployToken: z.string(),
  deployId: z.string(),
  version: z.string(),
  jobId: z.string(),
  restUrl: z.string(),
  launchedAt: z.string(),
});
export type LaunchRecord = z.infer<typeof LaunchRecordSchema>;

export class LaunchRegistry {
  constructor(readonly dir: string) {}

  async record(launch: LaunchRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = path.join(this.dir, `${launch.deployId}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify(launch));
    await rename(`${file}.tmp`, file);
  }

  /** Every launch recorded, newest first. */
  async all(): Promise<LaunchRecord[]> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const records: LaunchRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const text = await readFile(path.join(this.dir, name), 'utf8').catch(() => undefined);
      const parsed = text === undefined ? undefined : LaunchRecordSchema.safeParse(safeJson(text));
      if (parsed?.success) records.push(parsed.data);
    }
    return records.sort((a, b) => b.launchedAt.localeCompare(a.launchedAt));
  }

  async byJobId(jobId: string): Promise<LaunchRecord | undefined> {
    return (await this.all()).find((r) => r.jobId === jobId);
  }

  async byDeployId(deployId: string): Promise<LaunchRecord | undefined> {
    const text = await readFile(path.join(this.dir, `${deployId}.json`), 'utf8').catch(() => undefined);
    const parsed = text === undefined ? undefined : LaunchRecordSchema.safeParse(safeJson(text));
    return parsed?.success ? parsed.data : undefined;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
