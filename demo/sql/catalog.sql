-- The Paimon catalog every session uses; ${PAIMON_WAREHOUSE} is filled in from the environment.
CREATE CATALOG IF NOT EXISTS paimon WITH ('type' = 'paimon', 'warehouse' = '${PAIMON_WAREHOUSE}');
