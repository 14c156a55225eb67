-- Nodes, their interfaces and the enumerations they draw on (PLCAPI 5.x,
-- planetlab5.sql and db-config.d): boot states, node types, run levels,
-- network methods and network types. Nodes are soft-deleted like sites and
-- persons; hostnames are unique among live nodes only. Interfaces are deleted
-- outright (with their node).

CREATE TABLE boot_states (
  boot_state text PRIMARY KEY
);
INSERT INTO boot_states (boot_state) VALUES
  ('boot'), ('failboot'), ('safeboot'), ('install'), ('reinstall'), ('upgrade'), ('disabled');

CREATE TABLE run_levels (
  run_level text PRIMARY KEY
);
INSERT INTO run_levels (run_level) VALUES ('boot'), ('safeboot'), ('failboot'), ('reinstall');

CREATE TABLE node_types (
  node_type text PRIMARY KEY
);
INSERT INTO node_types (node_type) VALUES ('regular'), ('dummynet'), ('reservable');

CREATE TABLE nodes (
  node_id serial PRIMARY KEY,
  node_type text NOT NULL DEFAULT 'regular' REFERENCES node_types,
  hostname text NOT NULL,
  site_id integer NOT NULL REFERENCES sites,
  boot_state text NOT NULL DEFAULT 'reinstall' REFERENCES boot_states,
  run_level text REFERENCES run_levels,
  model text,
  boot_nonce text,
  version text,
  ssh_rsa_key text,
  key text,
  verified boolean NOT NULL DEFAULT false,
  deleted boolean NOT NULL DEFAULT false,
  date_deleted timestamptz,
  date_created timestamptz NOT NULL,
  last_updated timestamptz NOT NULL,
  last_contact timestamptz,
  last_boot timestamptz,
  last_download timestamptz,
  last_pcu_reboot timestamptz,
  last_pcu_confirmation timestamptz
);
CREATE UNIQUE INDEX nodes_hostname_live ON nodes (hostname) WHERE NOT deleted;
CREATE INDEX nodes_site_id ON nodes (site_id);

CREATE TABLE network_types (
  type text PRIMARY KEY
);
INSERT INTO network_types (type) VALUES ('ipv4');

CREATE TABLE network_methods (
  method text PRIMARY KEY
);
INSERT INTO network_methods (method) VALUES
  ('static'), ('dhcp'), ('proxy'), ('tap'), ('ipmi'), ('unknown');

CREATE TABLE interfaces (
  interface_id serial PRIMARY KEY,
  node_id integer NOT NULL REFERENCES nodes ON DELETE CASCADE,
  is_primary boolean NOT NULL DEFAULT false,
  type text NOT NULL REFERENCES network_types,
  method text NOT NULL REFERENCES network_methods,
  ip text,
  mac text,
  gateway text,
  network text,
  broadcast text,
  netmask text,
  dns1 text,
  dns2 text,
  bwlimit integer,
  hostname text,
  last_updated timestamptz
);
CREATE INDEX interfaces_node_id ON interfaces (node_id);
-- At most one primary interface per node, also when two calls race.
CREATE UNIQUE INDEX interfaces_one_primary ON interfaces (node_id) WHERE is_primary;

-- A node's session goes when the node row does; DeleteNode removes it explicitly.
ALTER TABLE node_session ADD CONSTRAINT node_session_node_id_fkey
  FOREIGN KEY (node_id) REFERENCES nodes ON DELETE CASCADE;
