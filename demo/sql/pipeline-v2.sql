-- Demo pipeline v2: ids 1, 2, 3, ... (one per row, in order) into both sink tables.
-- The datagen sequence source keeps its position in operator state, so a restart from a
-- savepoint continues exactly after the last id the savepoint covered.
SET 'pipeline.name' = 'paimon-demo';

CREATE TEMPORARY TABLE demo_sequence (id BIGINT) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '10',
  'fields.id.kind' = 'sequence',
  'fields.id.start' = '1',
  'fields.id.end' = '500000'
);

EXECUTE STATEMENT SET BEGIN
  INSERT INTO paimon.demo.seq_a SELECT id, CONCAT('v2:', CAST(id AS STRING)) FROM demo_sequence;
  INSERT INTO paimon.demo.seq_b SELECT id, CONCAT('v2:', CAST(id AS STRING)) FROM demo_sequence;
END;
