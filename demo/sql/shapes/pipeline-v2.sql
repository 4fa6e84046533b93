-- Shapes pipeline v2: the same job as pipeline-v1.sql (same operators, so it restores from its
-- savepoints), writing the version string v2 instead of v1.
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
  -- updates: every id changes the row of its key
  INSERT INTO paimon.shapes.counts
    SELECT k, COUNT(*), SUM(id), MAX(id), 'v2' FROM (SELECT id % 7 AS k, id FROM shapes_sequence) GROUP BY k;
  -- deletes: the 3 largest ids per key; each new id retracts the smallest of them
  INSERT INTO paimon.shapes.top3
    SELECT k, id, 'v2' FROM (
      SELECT k, id, ROW_NUMBER() OVER (PARTITION BY k ORDER BY id DESC) AS rn
      FROM (SELECT id % 5 AS k, id FROM shapes_sequence)
    ) WHERE rn <= 3;
  -- partial-update: even ids fill one column, odd ids the other (a NULL leaves the column as it is).
  -- One INSERT: two into the same table are two writers, whose commits conflict.
  INSERT INTO paimon.shapes.partial
    SELECT id % 11, CASE WHEN id % 2 = 0 THEN id END, CASE WHEN id % 2 = 1 THEN id END, 'v2' FROM shapes_sequence;
  -- aggregation merge engine: one record per id, summed by Paimon
  INSERT INTO paimon.shapes.agg
    SELECT CONCAT('p', CAST(id % 3 AS STRING)), id % 4, 1, id, id, 'v2' FROM shapes_sequence;
  -- append-only
  INSERT INTO paimon.shapes.events
    SELECT CONCAT('p', CAST(id % 2 AS STRING)), id, CONCAT('v2:', CAST(id AS STRING)) FROM shapes_sequence;
END;
