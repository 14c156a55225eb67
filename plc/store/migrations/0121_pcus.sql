-- Power control units, PCU types and their protocol types (PLCAPI 5.x,
-- planetlab5.sql). A PCU belongs to a site; deleting the site deletes its
-- PCUs. The nodes a PCU controls (pcu_node) come with the nodes table.

CREATE TABLE pcus (
  pcu_id serial PRIMARY KEY,
  site_id integer NOT NULL REFERENCES sites,
  hostname text,
  ip text NOT NULL,
  protocol text,
  username text,
  password text,
  model text,
  notes text,
  last_updated timestamptz
);

CREATE INDEX pcus_site ON pcus (site_id);

CREATE TABLE pcu_types (
  pcu_type_id serial PRIMARY KEY,
  model text NOT NULL UNIQUE,
  name text
);

CREATE TABLE pcu_protocol_type (
  pcu_protocol_type_id serial PRIMARY KEY,
  pcu_type_id integer NOT NULL REFERENCES pcu_types ON DELETE CASCADE,
  port integer NOT NULL,
  protocol text NOT NULL,
  supported boolean NOT NULL DEFAULT true,
  -- PLCAPI checked this in AddPCUProtocolType only; the index also holds for
  -- concurrent calls and UpdatePCUProtocolType.
  UNIQUE (pcu_type_id, port)
);
