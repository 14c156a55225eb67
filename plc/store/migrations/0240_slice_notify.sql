-- Committed changes that alter a slice's slivers announce the slice on the
-- channel plc_slice_changed, the payload being its slice_id. plcd listens
-- (plc/store/listener.hpp): its slice directory reloads the slice and pushes
-- what changed to connected node managers, and the ticket office revokes the
-- tickets of a slice that is gone (plc/push/service.hpp). PostgreSQL sends a
-- notification only when the transaction commits, once per distinct payload,
-- from whichever process made the change.
--
-- What a sliver holds and which trigger announces it:
--   the slice row (instantiation, expiry, deletion)   slices
--   its node set                                      slice_node; nodes (system,
--                                                     delegated, nm-controller
--                                                     slices apply on every node)
--   its members' keys                                 slice_person; persons
--                                                     (enabled, deleted);
--                                                     person_key; keys
--   its tags (global, per node, per node group)       slice_tag; node_tag and
--                                                     nodegroups (membership);
--                                                     tag_types (renames)
--   its initscript (a tag naming an InitScript)       initscripts

CREATE FUNCTION plc_notify_slice(slice integer) RETURNS void
LANGUAGE sql AS $$ SELECT pg_notify('plc_slice_changed', slice::text) $$;

-- slices, slice_node, slice_person, slice_tag: the row's own slice.
CREATE FUNCTION plc_slice_row_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM plc_notify_slice(OLD.slice_id);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM plc_notify_slice(NEW.slice_id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER slices_notify AFTER INSERT OR UPDATE OR DELETE ON slices
  FOR EACH ROW EXECUTE FUNCTION plc_slice_row_changed();
CREATE TRIGGER slice_node_notify AFTER INSERT OR UPDATE OR DELETE ON slice_node
  FOR EACH ROW EXECUTE FUNCTION plc_slice_row_changed();
CREATE TRIGGER slice_person_notify AFTER INSERT OR UPDATE OR DELETE ON slice_person
  FOR EACH ROW EXECUTE FUNCTION plc_slice_row_changed();
CREATE TRIGGER slice_tag_notify AFTER INSERT OR UPDATE OR DELETE ON slice_tag
  FOR EACH ROW EXECUTE FUNCTION plc_slice_row_changed();

-- The slices a person is a member of.
CREATE FUNCTION plc_notify_person_slices(person integer) RETURNS void
LANGUAGE sql AS $$
  SELECT plc_notify_slice(slice_id) FROM slice_person WHERE person_id = person
$$;

-- A member enabled, disabled or deleted: its keys join or leave the slivers.
CREATE FUNCTION plc_person_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM plc_notify_person_slices(NEW.person_id);
  RETURN NULL;
END $$;

CREATE TRIGGER persons_notify AFTER UPDATE OF enabled, deleted ON persons
  FOR EACH ROW
  WHEN (OLD.enabled IS DISTINCT FROM NEW.enabled OR OLD.deleted IS DISTINCT FROM NEW.deleted)
  EXECUTE FUNCTION plc_person_changed();

-- A key added to or taken from a person (AddPersonKey, DeleteKey, BlacklistKey).
CREATE FUNCTION plc_person_key_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM plc_notify_person_slices(OLD.person_id);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM plc_notify_person_slices(NEW.person_id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER person_key_notify AFTER INSERT OR UPDATE OR DELETE ON person_key
  FOR EACH ROW EXECUTE FUNCTION plc_person_key_changed();

-- A key's text changed (UpdateKey) or it was blacklisted.
CREATE FUNCTION plc_key_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM plc_notify_person_slices(pk.person_id) FROM person_key pk WHERE pk.key_id = NEW.key_id;
  RETURN NULL;
END $$;

CREATE TRIGGER keys_notify AFTER UPDATE OF key, key_type, is_blacklisted ON keys
  FOR EACH ROW
  WHEN (OLD.key IS DISTINCT FROM NEW.key OR OLD.key_type IS DISTINCT FROM NEW.key_type
        OR OLD.is_blacklisted IS DISTINCT FROM NEW.is_blacklisted)
  EXECUTE FUNCTION plc_key_changed();

-- The slices with tags scoped to a node group defined by tag type `tt`: a
-- node tag of that type may move a node into or out of the group.
CREATE FUNCTION plc_notify_group_tag_slices(tt integer) RETURNS void
LANGUAGE sql AS $$
  SELECT plc_notify_slice(st.slice_id) FROM slice_tag st
  JOIN nodegroups ng ON ng.nodegroup_id = st.nodegroup_id
  WHERE ng.tag_type_id = tt
  GROUP BY st.slice_id
$$;

CREATE FUNCTION plc_node_tag_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM plc_notify_group_tag_slices(OLD.tag_type_id);
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.tag_type_id <> OLD.tag_type_id) THEN
    PERFORM plc_notify_group_tag_slices(NEW.tag_type_id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER node_tag_notify AFTER INSERT OR UPDATE OR DELETE ON node_tag
  FOR EACH ROW EXECUTE FUNCTION plc_node_tag_changed();

-- A group's definition changed: its members change. (A deleted group takes
-- its slice tags along, which slice_tag_notify announces.)
CREATE FUNCTION plc_nodegroup_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM plc_notify_slice(st.slice_id) FROM slice_tag st
  WHERE st.nodegroup_id = NEW.nodegroup_id GROUP BY st.slice_id;
  RETURN NULL;
END $$;

CREATE TRIGGER nodegroups_notify AFTER UPDATE OF tag_type_id, value ON nodegroups
  FOR EACH ROW EXECUTE FUNCTION plc_nodegroup_changed();

-- A node added or deleted: the slices that apply on every node gain or lose
-- it. (DeleteNode's removal from bound slices is a slice_node change.)
CREATE FUNCTION plc_node_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM plc_notify_slice(s.slice_id) FROM slices s
  WHERE NOT s.deleted AND (s.instantiation IN ('delegated', 'nm-controller') OR EXISTS (
    SELECT 1 FROM slice_tag st JOIN tag_types tt ON tt.tag_type_id = st.tag_type_id
    WHERE st.slice_id = s.slice_id AND tt.tagname = 'system' AND st.value = '1'
      AND st.node_id IS NULL AND st.nodegroup_id IS NULL));
  RETURN NULL;
END $$;

CREATE TRIGGER nodes_insert_notify AFTER INSERT ON nodes
  FOR EACH ROW EXECUTE FUNCTION plc_node_changed();
CREATE TRIGGER nodes_delete_notify AFTER UPDATE OF deleted ON nodes
  FOR EACH ROW WHEN (OLD.deleted IS DISTINCT FROM NEW.deleted)
  EXECUTE FUNCTION plc_node_changed();

-- An InitScript changed: the slices whose initscript tag names it.
CREATE FUNCTION plc_initscript_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  names text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    names := ARRAY[NEW.name];
  ELSIF TG_OP = 'DELETE' THEN
    names := ARRAY[OLD.name];
  ELSE
    names := ARRAY[OLD.name, NEW.name];
  END IF;
  PERFORM plc_notify_slice(st.slice_id) FROM slice_tag st
  JOIN tag_types tt ON tt.tag_type_id = st.tag_type_id
  WHERE tt.tagname = 'initscript' AND st.value = ANY (names)
  GROUP BY st.slice_id;
  RETURN NULL;
END $$;

CREATE TRIGGER initscripts_notify AFTER INSERT OR UPDATE OR DELETE ON initscripts
  FOR EACH ROW EXECUTE FUNCTION plc_initscript_changed();

-- A tag type renamed: the tags of that type now carry another name.
CREATE FUNCTION plc_tag_type_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM plc_notify_slice(st.slice_id) FROM slice_tag st
  WHERE st.tag_type_id = NEW.tag_type_id GROUP BY st.slice_id;
  RETURN NULL;
END $$;

CREATE TRIGGER tag_types_notify AFTER UPDATE OF tagname ON tag_types
  FOR EACH ROW WHEN (OLD.tagname IS DISTINCT FROM NEW.tagname)
  EXECUTE FUNCTION plc_tag_type_changed();
