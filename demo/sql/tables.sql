-- The demo's two sink tables. sink.savepoint.auto-tag makes Paimon create tag savepoint-<id>
-- for every savepoint of a job writing here: the pairing our restore points rely on.
CREATE DATABASE IF NOT EXISTS paimon.demo;

CREATE TABLE IF NOT EXISTS paimon.demo.seq_a (
  id BIGINT NOT NULL,
  payload STRING,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true');

CREATE TABLE IF NOT EXISTS paimon.demo.seq_b (
  id BIGINT NOT NULL,
  payload STRING,
  PRIMARY KEY (id) NOT ENFORCED
) WITH ('bucket' = '1', 'sink.savepoint.auto-tag' = 'true');
