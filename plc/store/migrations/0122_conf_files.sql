-- Node configuration files (PLCAPI 5.x, planetlab5.sql). Their links to
-- nodes and node groups come with those tables.

CREATE TABLE conf_files (
  conf_file_id serial PRIMARY KEY,
  enabled boolean NOT NULL DEFAULT true,
  source text NOT NULL,
  dest text NOT NULL,
  file_permissions text NOT NULL DEFAULT '0644',
  file_owner text NOT NULL DEFAULT 'root',
  file_group text NOT NULL DEFAULT 'root',
  preinstall_cmd text,
  postinstall_cmd text,
  error_cmd text,
  ignore_cmd_errors boolean NOT NULL DEFAULT false,
  always_update boolean NOT NULL DEFAULT false
);
