-- The nodes a PCU controls, each on one port (PLCAPI 5.x pcu_node). A node
-- that is deleted (soft) leaves its PCUs, as PLCAPI's Node.delete does.

CREATE TABLE pcu_node (
  pcu_id integer NOT NULL REFERENCES pcus ON DELETE CASCADE,
  node_id integer NOT NULL REFERENCES nodes ON DELETE CASCADE,
  port integer NOT NULL,
  PRIMARY KEY (pcu_id, node_id),
  UNIQUE (pcu_id, port)
);

CREATE INDEX pcu_node_node ON pcu_node (node_id);

CREATE FUNCTION pcu_node_forget_deleted() RETURNS trigger AS $$
BEGIN
  DELETE FROM pcu_node WHERE node_id = NEW.node_id;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER nodes_deleted_leave_pcus AFTER UPDATE OF deleted ON nodes
  FOR EACH ROW WHEN (NEW.deleted AND NOT OLD.deleted)
  EXECUTE FUNCTION pcu_node_forget_deleted();
