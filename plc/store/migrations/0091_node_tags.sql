-- Node and interface tags (PLCAPI 5.x node_tag, interface_tag): one value per
-- object and tag type. A deleted interface takes its tags with it; DeleteNode
-- deletes the node's tags (the node row stays, soft-deleted).

CREATE TABLE node_tag (
  node_tag_id serial PRIMARY KEY,
  node_id integer NOT NULL REFERENCES nodes,
  tag_type_id integer NOT NULL REFERENCES tag_types ON DELETE CASCADE,
  value text,
  UNIQUE (node_id, tag_type_id)
);
CREATE INDEX node_tag_tag_type_id ON node_tag (tag_type_id);

CREATE TABLE interface_tag (
  interface_tag_id serial PRIMARY KEY,
  interface_id integer NOT NULL REFERENCES interfaces ON DELETE CASCADE,
  tag_type_id integer NOT NULL REFERENCES tag_types ON DELETE CASCADE,
  value text,
  UNIQUE (interface_id, tag_type_id)
);
CREATE INDEX interface_tag_tag_type_id ON interface_tag (tag_type_id);
