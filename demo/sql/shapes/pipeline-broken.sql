-- A version 2 of the shapes pipeline that is accepted at submit time (the same operators as
-- pipeline-v1.sql, so it restores from its savepoints) but fails on its first row, so it
-- crash-loops (RUNNING, failing, restarting) and never completes a checkpoint: the case the health
-- gate and compensation exist for. Like demo/sql/pipeline-broken.sql.
SET 'pipeline.name' = 'paimon-shapes';
SET 'parallelism.default' = '1';
-- The Top-N into top3 would get Flink's sink upsert materializer, which Paimon refuses (it merges by
-- primary key itself): 'Sink materializer must not be used with Paimon sink'.
SET 'table.exec.sink.upsert-materialize' = 'NONE';

CREATE TEMPORARY TABLE shapes_sequence (id BIGINT) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '500000'
);

EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.shapes.counts
    SELECT k, COUNT(*), SUM(id), MAX(id), CAST(CAST(MAX(id) AS INT) / 0 AS STRING) FROM (SELECT id % 7 AS k, id FROM shapes_sequence) GROUP BY k;
  INSERT INTO paimon.shapes.top3
    SELECT k, id, CAST(CAST(id AS INT) / 0 AS STRING) FROM (
      SELECT k, id, ROW_NUMBER() OVER (PARTITION BY k ORDER BY id DESC) AS rn
      FROM (SELECT id % 5 AS k, id FROM shapes_sequence)
    ) WHERE rn <= 3;
  INSERT INTO paimon.shapes.partial
    SELECT id % 11, CASE WHEN id % 2 = 0 THEN id END, CASE WHEN id % 2 = 1 THEN id END, CAST(CAST(id AS INT) / 0 AS STRING) FROM shapes_sequence;
  INSERT INTO paimon.shapes.agg
    SELECT CONCAT('p', CAST(id % 3 AS STRING)), id % 4, 1, id, id, CAST(CAST(id AS INT) / 0 AS STRING) FROM shapes_sequence;
  INSERT INTO paimon.shapes.events
    SELECT CONCAT('p', CAST(id % 2 AS STRING)), id, CAST(CAST(id AS INT) / 0 AS STRING) FROM shapes_sequence;
END;
