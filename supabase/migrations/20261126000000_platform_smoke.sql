-- First migration: proves the CLI applies migrations to the local platform. The analytics
-- schema arrives in its own migrations.
create schema if not exists private;
comment on schema private is 'Internal tables and helpers the REST API does not expose.';
