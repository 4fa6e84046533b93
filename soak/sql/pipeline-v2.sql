-- The soak's pipeline v2: the demo's sequence (ids 1, 2, 3, ..., payload 'v2:<id>') into seq_a and
-- seq_b, and in the same statement set its aggregates per key k = id % 7 (count, sum and max of the
-- ids routed to k) into seq_agg, a primary-key table whose rows are updated every checkpoint. One
-- statement set is one job: all three sinks commit at the same checkpoints and Paimon tags the same
-- savepoint-<id> on each, so seq_agg as of a tag must equal what ids 1..max of seq_a give.
-- The GROUP BY keeps its counts in Flink state: an id applied twice or lost in that state (a
-- restore from the wrong savepoint, state not carried over an upgrade) changes a count or a sum
-- even when the number of keys stays 7. soak/pipeline.ts aims 'paimon.soak.seq_*' at the run's tables.
SET 'pipeline.name' = 'soak';

CREATE TEMPORARY TABLE demo_sequence (id BIGINT) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '500000'
);

EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.soak.seq_a SELECT id, CONCAT('v2:', CAST(id AS STRING)) FROM demo_sequence;
  INSERT INTO paimon.soak.seq_b SELECT id, CONCAT('v2:', CAST(id AS STRING)) FROM demo_sequence;
  INSERT INTO paimon.soak.seq_agg
    SELECT CAST(MOD(id, 7) AS INT) AS k, COUNT(*) AS cnt, SUM(id) AS total, MAX(id) AS max_id
    FROM demo_sequence GROUP BY CAST(MOD(id, 7) AS INT);
END;
