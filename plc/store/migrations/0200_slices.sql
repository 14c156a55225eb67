-- Slices (PLCAPI 5.x planetlab5.sql and migration 101), their members, nodes,
-- node whitelists, tags (global, per node, per node group), init scripts and
-- leases of reservable nodes.
--
-- Slices are soft-deleted like sites, persons and nodes (`deleted`,
-- `date_deleted`); names are unique among live slices only. `created` and
-- `expires` are always written from PLC's clock, never SQL now(), so they
-- have no defaults here.
--
-- GetSlivers of one node reads, in a constant number of statements: the
-- slices bound to it (slice_node_node_id), the system, delegated and
-- nm-controller slices (slices_instantiation, slice_tag_tag_type), the tags of
-- all those slices at once (slice_tag_slice_id) and the node's groups
-- (nodegroup_node), the members' keys (slice_person_slice_id).

CREATE TABLE slice_instantiations (
  instantiation text PRIMARY KEY
);
INSERT INTO slice_instantiations (instantiation) VALUES
  ('not-instantiated'), -- a placeholder: no sliver anywhere
  ('plc-instantiated'), -- created by the node managers
  ('delegated'),        -- created on a node by redeeming a ticket
  ('nm-controller');    -- a node manager controller slice

CREATE TABLE slices (
  slice_id serial PRIMARY KEY,
  site_id integer NOT NULL REFERENCES sites,
  name text NOT NULL,
  instantiation text NOT NULL DEFAULT 'plc-instantiated' REFERENCES slice_instantiations,
  url text,
  description text,
  max_nodes integer NOT NULL DEFAULT 100,
  creator_person_id integer REFERENCES persons,
  created timestamptz NOT NULL,
  expires timestamptz NOT NULL,
  deleted boolean NOT NULL DEFAULT false,
  date_deleted timestamptz
);
-- Two simultaneous AddSlice calls with one name: the index settles it.
CREATE UNIQUE INDEX slices_name_live ON slices (name) WHERE NOT deleted;
CREATE INDEX slices_site_id ON slices (site_id) WHERE NOT deleted;
CREATE INDEX slices_expires ON slices (expires) WHERE NOT deleted;
CREATE INDEX slices_instantiation ON slices (instantiation) WHERE NOT deleted;

-- Slivers: the nodes a slice is bound to.
CREATE TABLE slice_node (
  slice_id integer NOT NULL REFERENCES slices,
  node_id integer NOT NULL REFERENCES nodes,
  PRIMARY KEY (slice_id, node_id)
);
CREATE INDEX slice_node_node_id ON slice_node (node_id);

CREATE TABLE slice_person (
  slice_id integer NOT NULL REFERENCES slices,
  person_id integer NOT NULL REFERENCES persons,
  PRIMARY KEY (slice_id, person_id)
);
CREATE INDEX slice_person_person_id ON slice_person (person_id);

-- A node with a non-empty whitelist takes only the slices on it.
CREATE TABLE node_slice_whitelist (
  node_id integer NOT NULL REFERENCES nodes,
  slice_id integer NOT NULL REFERENCES slices,
  PRIMARY KEY (node_id, slice_id)
);
CREATE INDEX node_slice_whitelist_slice_id ON node_slice_whitelist (slice_id);

CREATE TABLE initscripts (
  initscript_id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  enabled boolean NOT NULL DEFAULT true,
  script text NOT NULL
);

-- Slice tags: global (node_id and nodegroup_id NULL), of one sliver (node_id)
-- or of the slivers on a node group's nodes (nodegroup_id). A tag type may
-- hold several values (vsys, proper_op), but never the same value twice in
-- one scope; the index (on a digest: values may be long scripts) settles
-- simultaneous adds.
CREATE TABLE slice_tag (
  slice_tag_id serial PRIMARY KEY,
  slice_id integer NOT NULL REFERENCES slices,
  node_id integer REFERENCES nodes,
  nodegroup_id integer REFERENCES nodegroups ON DELETE CASCADE,
  tag_type_id integer NOT NULL REFERENCES tag_types ON DELETE CASCADE,
  value text NOT NULL,
  CHECK (node_id IS NULL OR nodegroup_id IS NULL)
);
CREATE UNIQUE INDEX slice_tag_once ON slice_tag
  (slice_id, tag_type_id, COALESCE(node_id, 0), COALESCE(nodegroup_id, 0), md5(value));
CREATE INDEX slice_tag_slice_id ON slice_tag (slice_id);
CREATE INDEX slice_tag_node_id ON slice_tag (node_id) WHERE node_id IS NOT NULL;
CREATE INDEX slice_tag_nodegroup_id ON slice_tag (nodegroup_id) WHERE nodegroup_id IS NOT NULL;
CREATE INDEX slice_tag_tag_type ON slice_tag (tag_type_id, value);

-- The slice-wide tags only: what tag names read as fields of GetSlices.
CREATE VIEW slice_tag_global AS
SELECT slice_tag_id, slice_id, tag_type_id, value FROM slice_tag
WHERE node_id IS NULL AND nodegroup_id IS NULL;

-- Leases: a slice holds a reservable node from t_from until t_until. AddLeases
-- and UpdateLeases check overlaps under a lock on the node row.
CREATE TABLE leases (
  lease_id serial PRIMARY KEY,
  t_from timestamptz NOT NULL,
  t_until timestamptz NOT NULL,
  node_id integer NOT NULL REFERENCES nodes,
  slice_id integer NOT NULL REFERENCES slices,
  CHECK (t_until > t_from)
);
CREATE INDEX leases_node_id ON leases (node_id, t_until);
CREATE INDEX leases_slice_id ON leases (slice_id);
