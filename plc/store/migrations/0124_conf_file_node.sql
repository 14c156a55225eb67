-- The nodes a configuration file is installed on (PLCAPI 5.x conf_file_node).
-- A node that is deleted (soft) leaves its configuration files, as PLCAPI's
-- Node.delete does.

CREATE TABLE conf_file_node (
  conf_file_id integer NOT NULL REFERENCES conf_files ON DELETE CASCADE,
  node_id integer NOT NULL REFERENCES nodes ON DELETE CASCADE,
  PRIMARY KEY (conf_file_id, node_id)
);

CREATE INDEX conf_file_node_node ON conf_file_node (node_id);

CREATE FUNCTION conf_file_node_forget_deleted() RETURNS trigger AS $$
BEGIN
  DELETE FROM conf_file_node WHERE node_id = NEW.node_id;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER nodes_deleted_leave_conf_files AFTER UPDATE OF deleted ON nodes
  FOR EACH ROW WHEN (NEW.deleted AND NOT OLD.deleted)
  EXECUTE FUNCTION conf_file_node_forget_deleted();
