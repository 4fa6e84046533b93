// A jar job for the parallelism tests, built here with javac against the stack's Flink lib/ (as
// scripts/build-demo-jar.sh builds the demo jar): the demo's sequence into the tables named by
// --tables (the demo jar always writes seq_a and seq_b, names other tests' jobs write too).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { config } from '../support/stack';
import { deployableDir } from '../support/demo-pipeline';

const SOURCE = `package par;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;

public class ParJob {
  public static void main(String[] args) {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) o.put(args[i].substring(2), args[i + 1]);
    TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
    env.getConfig().set("pipeline.name", o.get("name"));
    env.executeSql("CREATE CATALOG IF NOT EXISTS paimon WITH ('type' = 'paimon', 'warehouse' = '" + o.get("warehouse") + "')");
    env.executeSql("CREATE TEMPORARY TABLE par_sequence (id BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '"
        + o.get("rate") + "', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '" + o.get("last") + "')");
    StatementSet inserts = env.createStatementSet();
    for (String table : o.get("tables").split(",")) {
      inserts.addInsertSql("INSERT INTO paimon." + o.get("database") + "." + table
          + " SELECT id, CONCAT('" + o.get("version") + ":', CAST(id AS STRING)) FROM par_sequence");
    }
    inserts.execute();
  }
}
`;

/** Builds the jar under the deployments root; returns its path. */
export function buildParallelismJar(): string {
  const dir = deployableDir('par-jar-');
  const src = path.join(dir, 'src', 'par');
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, 'ParJob.java'), SOURCE);
  const classes = path.join(dir, 'classes');
  const lib = path.join(process.env.FLINK_HOME ?? path.join(config.stackHome, 'flink-1.20.3'), 'lib', '*');
  execFileSync('javac', ['--release', '11', '-nowarn', '-cp', lib, '-d', classes, path.join(src, 'ParJob.java')]);
  const jar = path.join(dir, 'par-job.jar');
  execFileSync('jar', ['--create', '--file', jar, '--main-class', 'par.ParJob', '-C', classes, '.']);
  return jar;
}

export const parJobArgs = (o: { version: string; database: string; tables: string[]; name: string; last: number; rate: number }): string[] => [
  '--version', o.version, '--database', o.database, '--tables', o.tables.join(','), '--name', o.name,
  '--warehouse', config.paimon.warehouse, '--last', String(o.last), '--rate', String(o.rate),
];
