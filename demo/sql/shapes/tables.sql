-- The shapes pipeline's sink tables: one of each Paimon table shape a restore must handle, all
-- with sink.savepoint.auto-tag (tag savepoint-<id> for every savepoint of the job writing them).
-- Every table is written by the one job in pipeline-v1.sql / pipeline-v2.sql.
--
-- | table    | shape                                                                          |
-- | counts   | primary key with updates (GROUP BY), fixed multi-bucket (4), changelog lookup  |
-- | top3     | primary key with deletes (Top-N retracts rows), deletion vectors               |
-- | partial  | merge-engine partial-update (two INSERTs, one column each), dynamic bucket (-1)|
-- | agg      | merge-engine aggregation (sum, max, last_non_null_value), partitioned          |
-- | events   | append-only (no primary key), partitioned                                      |
-- counts, top3 and partial are unpartitioned.
CREATE DATABASE IF NOT EXISTS paimon.shapes;

CREATE TABLE IF NOT EXISTS paimon.shapes.counts (
  k BIGINT NOT NULL,
  n BIGINT,
  s BIGINT,
  last_id BIGINT,
  ver STRING,
  PRIMARY KEY (k) NOT ENFORCED
) WITH (
  'bucket' = '4',
  'changelog-producer' = 'lookup',
  'sink.savepoint.auto-tag' = 'true'
);

CREATE TABLE IF NOT EXISTS paimon.shapes.top3 (
  k BIGINT NOT NULL,
  id BIGINT NOT NULL,
  ver STRING,
  PRIMARY KEY (k, id) NOT ENFORCED
) WITH (
  'bucket' = '1',
  'deletion-vectors.enabled' = 'true',
  'sink.savepoint.auto-tag' = 'true'
);

CREATE TABLE IF NOT EXISTS paimon.shapes.partial (
  k BIGINT NOT NULL,
  last_even BIGINT,
  last_odd BIGINT,
  ver STRING,
  PRIMARY KEY (k) NOT ENFORCED
) WITH (
  'bucket' = '-1',
  'merge-engine' = 'partial-update',
  'sink.savepoint.auto-tag' = 'true'
);

CREATE TABLE IF NOT EXISTS paimon.shapes.agg (
  p STRING NOT NULL,
  k BIGINT NOT NULL,
  n BIGINT,
  s BIGINT,
  last_id BIGINT,
  ver STRING,
  PRIMARY KEY (p, k) NOT ENFORCED
) PARTITIONED BY (p) WITH (
  'bucket' = '2',
  'merge-engine' = 'aggregation',
  'fields.n.aggregate-function' = 'sum',
  'fields.s.aggregate-function' = 'sum',
  'fields.last_id.aggregate-function' = 'max',
  'fields.ver.aggregate-function' = 'last_non_null_value',
  'sink.savepoint.auto-tag' = 'true'
);

CREATE TABLE IF NOT EXISTS paimon.shapes.events (
  p STRING NOT NULL,
  id BIGINT NOT NULL,
  payload STRING
) PARTITIONED BY (p) WITH (
  'sink.savepoint.auto-tag' = 'true'
);
