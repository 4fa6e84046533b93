// What the sink tables must hold, worked out from the soak's own actions and the tags' contents,
// never from what a workflow says it did. The demo pipeline emits ids 1, 2, 3, … with payload
// '<version>:<id>', and its datagen source keeps its position in the savepoint, so:
//   - an upgrade stopped at savepoint S: the old version wrote ids up to S's tag's max id, the new
//     version every id after it;
//   - a restore to point P: the table as of P's tag, then the restarted version from P's max id + 1
//     (tags newer than P are gone: rollback_to deletes them);
//   - an intermediate savepoint changes nothing, it only adds a tag (a restore point).

export type Version = 'v1' | 'v2';

/** Ids from `from` on, up to the next segment's `from` - 1, were emitted by `version`. */
export interface Segment {
  version: Version;
  from: number;
}

/** A `savepoint-<id>` tag on the sink tables of the current history, and what it holds. */
export interface TagFact {
  tag: string;
  /** the savepoint the soak saw Paimon tag (null: a tag the soak found without knowing its savepoint) */
  path: string | null;
  /** the largest id in every sink table as of the tag */
  maxId: number;
  /** who wrote which ids up to maxId */
  segments: Segment[];
}

export class ExpectedHistory {
  private segments: Segment[];
  /** In the order the tags were made, which is the order of their snapshots. */
  private tagFacts: TagFact[] = [];

  constructor(first: Version) {
    this.segments = [{ version: first, from: 1 }];
  }

  get running(): Version {
    return this.segments[this.segments.length - 1]!.version;
  }

  /** The first id the running version emitted (1 for the first run). */
  get runningSince(): number {
    return this.segments[this.segments.length - 1]!.from;
  }

  get tags(): readonly TagFact[] {
    return this.tagFacts;
  }

  tag(name: string): TagFact | undefined {
    return this.tagFacts.find((t) => t.tag === name);
  }

  history(): readonly Segment[] {
    return this.segments;
  }

  /** A new tag of the current history, holding ids 1..maxId. */
  tagged(tag: string, path: string | null, maxId: number): TagFact {
    const fact = { tag, path, maxId, segments: this.upTo(maxId) };
    this.tagFacts.push(fact);
    return fact;
  }

  /** The running version stopped at a savepoint holding ids 1..maxId; `to` emits from maxId + 1. */
  upgraded(maxId: number, to: Version): void {
    this.segments = [...this.upTo(maxId), { version: to, from: maxId + 1 }];
  }

  /**
   * Every table rolled back to `tag`; `version` restarted from its savepoint, emitting from its max
   * id + 1. Returns the newer tags the rollback deleted (their ids come again: Flink counts on from
   * the restored savepoint's checkpoint id).
   */
  restored(tag: string, version: Version): TagFact[] {
    const i = this.tagFacts.findIndex((t) => t.tag === tag);
    if (i < 0) throw new Error(`the soak knows no tag ${tag} in the tables' current history`);
    const point = this.tagFacts[i]!;
    const deleted = this.tagFacts.slice(i + 1);
    this.tagFacts = this.tagFacts.slice(0, i + 1);
    this.segments = [...point.segments, { version, from: point.maxId + 1 }];
    return deleted;
  }

  /** A tag the soak expected is gone (reported as a finding, dropped from the model). */
  forget(tag: string): void {
    this.tagFacts = this.tagFacts.filter((t) => t.tag !== tag);
  }

  /** The version that emitted `id` (the segment it falls in). */
  versionOf(id: number): Version {
    let version = this.segments[0]!.version;
    for (const s of this.segments) if (s.from <= id) version = s.version;
    return version;
  }

  /** SQL for the payload every id must have: '<version>:<id>' by the segment the id falls in. */
  expectedPayloadSql(column = 'id'): string {
    const versions = this.segments
      .slice(1)
      .map((s, i) => `WHEN ${column} < ${s.from} THEN '${this.segments[i]!.version}'`)
      .join(' ');
    const version = versions === '' ? `'${this.running}'` : `CASE ${versions} ELSE '${this.running}' END`;
    return `CONCAT(${version}, ':', CAST(${column} AS STRING))`;
  }

  /** The segments that cover ids 1..maxId. */
  private upTo(maxId: number): Segment[] {
    return this.segments.filter((s) => s.from <= maxId).map((s) => ({ ...s }));
  }
}

/** Segments as text for reports: 'v1 1..120, v2 121..'. */
export const describeSegments = (segments: readonly Segment[], maxId?: number): string =>
  segments
    .map((s, i) => {
      const next = segments[i + 1];
      const to = next ? next.from - 1 : maxId;
      return `${s.version} ${s.from}..${to ?? ''}`;
    })
    .join(', ');
