package demo;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;

/**
 * The demo pipeline of demo/sql/pipeline-v1.sql as a jar job: ids 1, 2, 3, ... from a datagen
 * sequence (its position is operator state, so a restore from a savepoint continues after the
 * last id it covered) into the sink tables seq_a and seq_b of a Paimon database.
 *
 * <p>Arguments: --version v1 --database demo --warehouse file:///data/warehouse
 * [--catalog paimon] [--name paimon-demo] [--rows-per-second 10]
 */
public final class DemoJob {

  public static void main(String[] args) {
    Map<String, String> opts = parse(args);
    String version = require(opts, "version");
    String database = require(opts, "database");
    String warehouse = require(opts, "warehouse");
    String catalog = opts.getOrDefault("catalog", "paimon");
    String name = opts.getOrDefault("name", "paimon-demo");
    String rate = opts.getOrDefault("rows-per-second", "10");
    for (String value : new String[] {version, database, catalog, rate}) {
      // These are spliced into SQL; refuse anything but plain words.
      if (!value.matches("[A-Za-z0-9_.-]+")) {
        throw new IllegalArgumentException("not a plain word: " + value);
      }
    }
    if (warehouse.contains("'")) {
      throw new IllegalArgumentException("the warehouse must not contain a quote");
    }

    TableEnvironment env = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
    env.getConfig().set("pipeline.name", name);
    env.executeSql(
        "CREATE CATALOG IF NOT EXISTS `" + catalog + "` WITH ('type' = 'paimon', 'warehouse' = '"
            + warehouse + "')");
    env.executeSql(
        "CREATE TEMPORARY TABLE demo_sequence (id BIGINT) WITH ("
            + " 'connector' = 'datagen', 'rows-per-second' = '" + rate + "',"
            + " 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '500000')");
    StatementSet inserts = env.createStatementSet();
    for (String table : new String[] {"seq_a", "seq_b"}) {
      inserts.addInsertSql(
          "INSERT INTO `" + catalog + "`.`" + database + "`.`" + table + "`"
              + " SELECT id, CONCAT('" + version + ":', CAST(id AS STRING)) FROM demo_sequence");
    }
    inserts.execute();
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value pairs, got: " + String.join(" ", args));
      }
      opts.put(args[i].substring(2), args[++i]);
    }
    return opts;
  }

  private static String require(Map<String, String> opts, String key) {
    String value = opts.get(key);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("missing --" + key);
    }
    return value;
  }
}
