/// Postgres client over libpq.
