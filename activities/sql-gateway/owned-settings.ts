// Session settings the operation decides, which a script's own SET would silently override: a SET
// in the script outranks the session config the deploy opens the session with. A script copied from
// a manual restore (Flink's docs restore a SQL job with `SET 'execution.state-recovery.path' = ...`)
// would then start the new version from another savepoint than the one whose tag the tables were
// rolled back to, or kept at. Refused before anything is stopped, and again at the deploy.

interface OwnedSetting {
  keys: string[];
  /** Refused for this value only (case-insensitive); any value when absent. */
  value?: string;
  why: string;
}

const OWNED: OwnedSetting[] = [
  {
    keys: ['execution.state-recovery.path', 'execution.savepoint.path'],
    why: 'the operation starts the job from the savepoint that matches the tables\' tag; remove this SET',
  },
  {
    keys: ['execution.state-recovery.ignore-unclaimed-state', 'execution.savepoint.ignore-unclaimed-state'],
    why: 'set it with the operation\'s allowNonRestoredState option instead',
  },
  {
    keys: ['execution.state-recovery.claim-mode', 'execution.savepoint-restore-mode'],
    value: 'CLAIM',
    why: 'in CLAIM mode Flink owns the savepoint and deletes it once a later checkpoint subsumes it, and the operation keeps every savepoint a restore may need; use NO_CLAIM or leave it unset',
  },
];

/**
 * The job parameters carry the deploy's marker (by which a retried deploy finds the job it started
 * instead of starting a second writer). A script may set its own: the deploy adds the marker to
 * them (withDeployMarker), but a script may not set the marker's key itself.
 */
const JOB_PARAMETERS = 'pipeline.global-job-parameters';

// SET 'key' = 'value', SET `key` = `value`, or the legacy unquoted SET key = value.
const SET_STATEMENT = /^SET\s+(['`"]?)([^'`"=\s]+)\1\s*=\s*(['`"]?)([\s\S]*?)\3\s*;?\s*$/i;

/** What the script sets that the operation owns, in words a person can act on; undefined when nothing. */
export function ownedSettingsProblem(statements: string[], markerKey: string): string | undefined {
  const problems: string[] = [];
  for (const statement of statements) {
    const set = SET_STATEMENT.exec(statement.trim());
    if (!set) continue;
    const key = set[2]!.toLowerCase();
    const value = set[4]!.trim();
    const owned = OWNED.find((o) => o.keys.includes(key) && (o.value === undefined || o.value === value.toUpperCase()));
    if (owned) problems.push(`it sets '${set[2]}' = '${value}': ${owned.why}`);
    if (key === JOB_PARAMETERS && value.includes(markerKey)) {
      problems.push(`it sets '${set[2]}' = '${value}': ${markerKey} is the operation's marker of the job it starts; leave it out`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** The script with the deploy's marker added to the job parameters it sets itself (a SET outranks the session's). */
export function withDeployMarker(statements: string[], markerKey: string, deployId: string): string[] {
  return statements.map((statement) => {
    const set = SET_STATEMENT.exec(statement.trim());
    if (!set || set[2]!.toLowerCase() !== JOB_PARAMETERS) return statement;
    const [, keyQuote, key, valueQuote, raw] = set;
    const value = raw!.trim();
    const marker = `${markerKey}:${deployId}`;
    return `SET ${keyQuote}${key}${keyQuote} = ${valueQuote}${value === '' ? marker : `${value},${marker}`}${valueQuote}`;
  });
}
