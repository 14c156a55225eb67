-- Events: one row per recorded API call (writes, successes and faults), with
-- the call's arguments (secrets removed) and the objects it touched.

CREATE TABLE events (
  event_id serial PRIMARY KEY,
  person_id integer REFERENCES persons,
  node_id integer,                       -- nodes arrive in a later migration
  auth_type text,
  fault_code integer NOT NULL DEFAULT 0,
  call_name text NOT NULL,
  call text NOT NULL,
  message text,
  runtime float8 NOT NULL DEFAULT 0,
  time timestamptz NOT NULL
);
CREATE INDEX events_time_idx ON events (time);
CREATE INDEX events_person_id_idx ON events (person_id);

CREATE TABLE event_object (
  event_id integer NOT NULL REFERENCES events ON DELETE CASCADE,
  object_id integer NOT NULL,
  object_type text NOT NULL DEFAULT 'Unknown'
);
CREATE INDEX event_object_event_id_idx ON event_object (event_id);
CREATE INDEX event_object_object_idx ON event_object (object_type, object_id);

-- One row per (event, object), as PLCAPI's view_event_objects.
CREATE VIEW view_event_objects AS
SELECT e.event_id, e.person_id, e.node_id, e.auth_type, e.fault_code, e.call_name, e.call,
       e.message, e.runtime, e.time, o.object_id, o.object_type
FROM events e LEFT JOIN event_object o USING (event_id);
