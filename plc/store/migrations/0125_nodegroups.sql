-- Node groups (PLCAPI 5.x nodegroups): a group is defined by a node tag type
-- and a value; a node belongs to it while it carries that tag with exactly
-- that value (nodegroup_node). Membership is never stored, so it follows
-- AddNodeTag/UpdateNodeTag/DeleteNodeTag and DeleteNode (which drops the
-- node's tags) by itself. A tag type in use by a group cannot be deleted
-- (DeleteTagType says which group holds it).

CREATE TABLE nodegroups (
  nodegroup_id serial PRIMARY KEY,
  groupname text NOT NULL UNIQUE,
  tag_type_id integer NOT NULL REFERENCES tag_types,
  value text
);
CREATE INDEX nodegroups_tag_type_id ON nodegroups (tag_type_id);

CREATE VIEW nodegroup_node AS
SELECT nodegroups.nodegroup_id, node_tag.node_id
FROM nodegroups
JOIN node_tag ON node_tag.tag_type_id = nodegroups.tag_type_id
             AND node_tag.value = nodegroups.value;

-- The configuration files installed on every node of a group.
CREATE TABLE conf_file_nodegroup (
  conf_file_id integer NOT NULL REFERENCES conf_files ON DELETE CASCADE,
  nodegroup_id integer NOT NULL REFERENCES nodegroups ON DELETE CASCADE,
  PRIMARY KEY (conf_file_id, nodegroup_id)
);
CREATE INDEX conf_file_nodegroup_nodegroup ON conf_file_nodegroup (nodegroup_id);

-- The role of node-authenticated callers (PLCAPI migration 104): tag types
-- may list it among the roles allowed to set them.
INSERT INTO roles (role_id, name) VALUES (50, 'node');
