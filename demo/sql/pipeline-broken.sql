-- A version 2 that is accepted at submit time but fails on its first row, so it crash-loops
-- (RUNNING, failing, restarting) and never completes a checkpoint: the case the health gate
-- and compensation exist for.
SET 'pipeline.name' = 'paimon-demo';

CREATE TEMPORARY TABLE demo_sequence (id BIGINT) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '500000'
);

EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.demo.seq_a SELECT id, CAST(CAST(id AS INT) / 0 AS STRING) FROM demo_sequence;
  INSERT INTO paimon.demo.seq_b SELECT id, CAST(CAST(id AS INT) / 0 AS STRING) FROM demo_sequence;
END;
