// Which statements of a SQL script change only the gateway session they run in (its config, its
// temporary objects, its current catalog) and so can run apart from the job: in a throwaway session
// (the deployment check), or before the old version stops (a prepared deploy session).

// Anything else (CREATE TABLE, ALTER, DROP, CALL...) could change the catalog for good.
const SESSION_ONLY = [
  /^SET\b/i,
  /^RESET\b/i,
  /^USE\b/i,
  /^CREATE\s+(OR\s+REPLACE\s+)?TEMPORARY\s+(SYSTEM\s+)?(TABLE|VIEW|FUNCTION)\b/i,
  /^CREATE\s+CATALOG\b/i, // catalogs live in the session's catalog store (in memory by default)
  /^(LOAD|UNLOAD)\s+MODULE\b/i,
  /^ADD\s+JAR\b/i,
];

export const changesOnlyTheSession = (statement: string): boolean => SESSION_ONLY.some((p) => p.test(statement.trim()));

/**
 * A temporary view, or a temporary table defined from a catalog's table (LIKE) or filled by a query,
 * reads a catalog's table when it is created: the table as it is then, which a rollback after it changes.
 */
const READS_A_TABLE = [/^CREATE\s+(OR\s+REPLACE\s+)?TEMPORARY\s+VIEW\b/i, /^CREATE\s+(OR\s+REPLACE\s+)?TEMPORARY\s+TABLE\b[\s\S]*(\bLIKE\b|\bAS\s+SELECT\b)/i];

/** Changes only the session and reads no catalog table: the same run before the old version stops as after. */
export const touchesNoTable = (statement: string): boolean => changesOnlyTheSession(statement) && !READS_A_TABLE.some((p) => p.test(statement.trim()));
