// What differs between the Flink and Paimon versions these workflows run against, in one place.
// A Flink line is chosen from what the live cluster says (GET /config's flink-version) and Paimon's
// procedures from what the live gateway lists (SHOW PROCEDURES), never from configuration.
// scripts/stack-lib.sh (STACK_PAIRS) and README's compatibility table name the same pairs;
// test/compat.test.ts checks the running stack against all three.

export interface FlinkLine {
  /** Flink's minor line, e.g. '1.20' */
  readonly line: string;
  /** The Flink and Paimon releases this line was proven with (the end-to-end suite in CI). */
  readonly provenWith: { readonly flink: string; readonly paimon: string };
  /** Paimon's connector for the line on Maven Central (paimon-flink-<line>). */
  readonly paimonConnector: string;
  /** REST API versions the SQL gateway serves (GET /api_versions), as measured. */
  readonly sqlGatewayApiVersions: readonly string[];
  /**
   * Whether a job started with pipeline.jobvertex-parallelism-overrides runs at those parallelisms
   * (the upgrade's parallelism option). 1.20: yes (test/e2e/parallelism*). 2.1: no; its Dispatcher
   * applies the overrides only to a submitted JobGraph, and the SQL gateway and a jar run submit a
   * StreamGraph (measured for both: an upgrade planned at 2 ran every vertex at 1), so the upgrade
   * refuses the option.
   */
  readonly parallelismOverrides: boolean;
}

export const FLINK_LINES: readonly FlinkLine[] = [
  {
    line: '1.20',
    provenWith: { flink: '1.20.3', paimon: '1.3.1' },
    paimonConnector: 'paimon-flink-1.20',
    sqlGatewayApiVersions: ['V1', 'V2', 'V3'],
    parallelismOverrides: true,
  },
  {
    line: '2.1',
    provenWith: { flink: '2.1.3', paimon: '1.3.0' },
    paimonConnector: 'paimon-flink-2.1',
    sqlGatewayApiVersions: ['V1', 'V2', 'V3', 'V4'],
    parallelismOverrides: false,
  },
];

/**
 * The SQL gateway REST API version of every call: the newest one that all supported lines serve.
 * Flink 2.x adds V4 but keeps V1, and nothing we call (sessions, statements, paged JSON results)
 * differs between them.
 */
export const SQL_GATEWAY_API = 'v1';

/** The supported line of a Flink version string such as '2.1.3', or undefined. */
export function flinkLine(flinkVersion: string): FlinkLine | undefined {
  return FLINK_LINES.find((l) => flinkVersion === l.line || flinkVersion.startsWith(`${l.line}.`));
}

/** Why an upgrade cannot change parallelism on this Flink, or undefined when it can. */
export function parallelismRefusal(flinkVersion: string): string | undefined {
  const line = flinkLine(flinkVersion);
  if (line?.parallelismOverrides !== false) return undefined;
  return (
    `the cluster runs Flink ${flinkVersion}, which starts a job at its graph's parallelism whatever ` +
    "pipeline.jobvertex-parallelism-overrides says (Flink 2.1 applies it only to a submitted JobGraph), so the " +
    'upgrade cannot change parallelism there without renaming operators and leaving their state unclaimed. ' +
    'Upgrade without the parallelism option (README: compatibility)'
  );
}

export function supportedFlinkLines(): string {
  return FLINK_LINES.map((l) => `${l.line}.x`).join(', ');
}

/**
 * The Paimon procedures (CALL sys.<name>, named arguments) the workflows call; all of them have the
 * same name and arguments in every supported Paimon release.
 */
export const PAIMON_PROCEDURES = ['create_tag', 'delete_tag', 'rollback_to', 'create_branch', 'reset_consumer'] as const;

/** What a Paimon release can do beyond PAIMON_PROCEDURES, read from its procedure list. */
export interface PaimonFeatures {
  /**
   * CALL sys.rollback_to_as_latest (Paimon 2.0): the tag's state becomes a new latest snapshot and
   * later snapshots and tags survive, where rollback_to deletes them.
   */
  readonly rollbackToAsLatest: boolean;
  /**
   * 'sink.coordinator-commit.enabled' (Paimon 2.0): commits from the JobManager, and refuses to plan a
   * sink with 'sink.savepoint.auto-tag' (its coordinator cannot tell a savepoint from a checkpoint).
   */
  readonly coordinatorCommit: boolean;
}

/** Features from the names SHOW PROCEDURES FROM sys lists (with or without the `sys.` prefix). */
export function paimonFeatures(procedures: readonly string[]): PaimonFeatures {
  const names = new Set(procedures.map((p) => p.replace(/^sys\./, '')));
  // rollback_to_as_latest and coordinator commit came in the same release (2.0.0).
  const paimon2 = names.has('rollback_to_as_latest');
  return { rollbackToAsLatest: paimon2, coordinatorCommit: paimon2 };
}
