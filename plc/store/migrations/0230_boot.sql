-- Boot-time methods (PLCAPI 5.x BootUpdateNode, GetNodeFlavour): the times
-- BootUpdateNode records when a node comes back, and the node role among the
-- roles that may set the flavour tags, as the original's accessors list it.

ALTER TABLE nodes
  ADD COLUMN last_time_spent_online integer,
  ADD COLUMN last_time_spent_offline integer;

-- 0125 adds the role; repeated here so this migration stands on its own.
INSERT INTO roles (role_id, name) VALUES (50, 'node') ON CONFLICT DO NOTHING;

INSERT INTO tag_type_role (tag_type_id, role_id)
SELECT tag_type_id, 50 FROM tag_types
WHERE tagname IN ('arch', 'pldistro', 'fcdistro', 'virt', 'hrn')
ON CONFLICT DO NOTHING;
