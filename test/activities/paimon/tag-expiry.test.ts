// Tags that Paimon expires by itself: a table's 'tag.default-time-retained' also applies to the
// tags of savepoints (measured here on Paimon 1.3.1), so a pinned restore point can lose its tag.
// Read from `$tags` (create_time + time_retained) and shown by the restore-point catalog.
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalogActivities } from '../../../activities/catalog/activities';
import { localPath, RestorePointStore } from '../../../activities/catalog/store';
import { createFlinkActivities } from '../../../activities/flink/activities';
import { expiryOf } from '../../../activities/paimon/tag-reads';
import { tagFor } from '../../../src/domain/model';
import { requireStack } from '../../support/stack';
import { cancelOurJobs, config, freshDatabase, paimonActivities, paimonQuery, run, startWriter, stopWithSavepoint } from '../../support/paimon-fixtures';

const DB = 'paimontest_tag_expiry';
const JOB_PREFIX = 'paimontest-tag-expiry';

describe('expiryOf', () => {
  it("adds Java's Duration text to the tag's create_time, in the same local time", () => {
    expect(expiryOf('2026-11-30T06:14:06.145', 'PT2H')).toBe('2026-11-30T08:14:06.145');
    expect(expiryOf('2026-11-30T23:59:00', 'PT72H')).toBe('2026-12-03T23:59:00.000');
    expect(expiryOf('2026-11-30T06:00:00', 'PT1M30.5S')).toBe('2026-11-30T06:01:30.500');
  });
  it('says null only for a tag Paimon keeps, and counts a retention it cannot read as ended at creation', () => {
    expect(expiryOf(null, null)).toBeNull();
    expect(expiryOf('2026-11-30T06:00:00', null)).toBeNull();
    expect(expiryOf('2026-11-30T06:00:00', 'P1Y')).toBe('2026-11-30T06:00:00');
  });
});

describe('savepoint tags that Paimon expires, on the real stack', () => {
  const paimon = paimonActivities();
  const flink = createFlinkActivities(config);
  const catalog = createCatalogActivities(config, { listTagsOfTables: paimon.listTagsOfTables, inspectSavepoint: flink.inspectSavepoint });
  const jobName = `${JOB_PREFIX}-${Date.now()}`;
  let savepointPath: string | undefined;

  beforeAll(async () => {
    await requireStack();
    await freshDatabase(DB);
    const options = "'bucket' = '1', 'sink.savepoint.auto-tag' = 'true'";
    await paimonQuery(
      `CREATE TABLE \`${DB}\`.\`expiring\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) ` +
        `WITH (${options}, 'tag.default-time-retained' = '2 h')`,
    );
    await paimonQuery(`CREATE TABLE \`${DB}\`.\`kept\` (id BIGINT NOT NULL, payload STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (${options})`);
  });
  afterAll(async () => {
    await cancelOurJobs(JOB_PREFIX);
    await rm(new RestorePointStore(config.flink.savepointDir).jobDir(jobName), { recursive: true, force: true });
    if (savepointPath) await rm(localPath(savepointPath, 'savepoint'), { recursive: true, force: true });
  });

  it("a stop-with-savepoint's tag gets the table's tag.default-time-retained; a pinned point says it will lose its tag", async () => {
    const jobId = await startWriter(DB, ['expiring', 'kept'], jobName, 1);
    const sp = await stopWithSavepoint(jobId);
    savepointPath = sp.location;
    const tag = tagFor(sp.savepointId);
    const tags = await run(paimon.listTagsOfTables, { tables: [`${DB}.expiring`, `${DB}.kept`] });
    const [expiring] = tags[`${DB}.expiring`]!.filter((t) => t.tagName === tag);
    const [kept] = tags[`${DB}.kept`]!.filter((t) => t.tagName === tag);
    const [row] = await paimonQuery(`SELECT create_time, time_retained FROM \`${DB}\`.\`expiring$tags\` WHERE tag_name = '${tag}'`);
    expect(row!.time_retained).toBe('PT2H');
    expect(expiring!.expiresAt).toBe(expiryOf(String(row!.create_time), 'PT2H'));
    expect(kept!.expiresAt).toBeNull();

    const tables = [`${DB}.expiring`, `${DB}.kept`];
    const record = await run(catalog.recordRestorePoint, {
      jobName,
      jobId,
      savepoint: { savepointId: sp.savepointId, path: sp.location, triggeredAt: Date.now() },
      tables,
      pinned: true,
      label: 'tag expiry test',
      taggedAtRecord: true,
    });
    expect(record.tagsAtRecord![`${DB}.expiring`]!.expiresAt).toBe(expiring!.expiresAt);
    expect(record.tagsAtRecord![`${DB}.kept`]!.expiresAt).toBeNull();

    const [point] = await run(catalog.listRestorePoints, { jobName, tables });
    expect(point).toMatchObject({ savepointId: sp.savepointId, pinned: true, restorable: true, tagExpiresAt: expiring!.expiresAt });
    expect(point!.warnings).toEqual([expect.stringContaining(`pinned, but Paimon expires tag ${tag}`)]);
    expect(point!.warnings![0]).toContain(`${DB}.expiring at ${expiring!.expiresAt}`);
    expect(point!.warnings![0]).not.toContain(`${DB}.kept`);

    // Unpinned, the expiry is still shown, with no warning: retention may delete it anyway.
    await run(catalog.unpinRestorePoint, { jobName, savepointId: sp.savepointId });
    const [unpinned] = await run(catalog.listRestorePoints, { jobName, tables });
    expect(unpinned).toMatchObject({ pinned: false, tagExpiresAt: expiring!.expiresAt, warnings: [] });
  });
});
