-- vigil's database login: a role with pg_monitor (read every session in pg_stat_activity and the server's settings) and nothing else.
--
-- Run once per server as a superuser, then give the role a password out of band:
--   psql "$ADMIN_URL" -f deploy/sql/vigil-role.sql
--   psql "$ADMIN_URL" -c '\password vigil'
-- and put postgres://vigil:<password>@<host>:5432/<database> in the variable the config's url_env names.
-- Safe to run again: it creates the role when missing and otherwise resets its attributes.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'vigil') THEN
    CREATE ROLE vigil LOGIN;
  END IF;
END
$$;

-- No way to write, create, replicate or bypass row security; a handful of connections at most
-- (per database, a running vigil holds one per readiness check and a pool of two, and a `vigil check`
-- beside it as many again).
ALTER ROLE vigil WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 10;

-- pg_monitor = pg_read_all_settings + pg_read_all_stats + pg_stat_scan_tables: without it vigil sees
-- other roles' sessions with their state and query text hidden.
GRANT pg_monitor TO vigil;

-- Even a mistyped pg_query cannot change data, and nothing vigil runs may hold a transaction open.
ALTER ROLE vigil SET default_transaction_read_only = on;
ALTER ROLE vigil SET idle_in_transaction_session_timeout = '30s';

-- An impact_query (users affected) reads one application table; grant exactly that, in the
-- application database, for example:
--   GRANT SELECT ON sessions TO vigil;
