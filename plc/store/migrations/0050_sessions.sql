-- Sessions (PLCAPI's session auth): a person may hold several, each expiring
-- (24 h by default); a node holds at most one, without expiry. Session ids
-- are base64 of 32 random bytes. Expiry times come from PLC's clock.

CREATE TABLE sessions (
  session_id text PRIMARY KEY,
  expires timestamptz
);

CREATE TABLE person_session (
  person_id integer NOT NULL REFERENCES persons ON DELETE CASCADE,
  session_id text NOT NULL UNIQUE REFERENCES sessions ON DELETE CASCADE,
  PRIMARY KEY (person_id, session_id)
);
CREATE INDEX person_session_person_id_idx ON person_session (person_id);

-- node_id refers to nodes, which a later migration creates; that migration
-- adds the foreign key (deleting a node clears its session).
CREATE TABLE node_session (
  node_id integer NOT NULL UNIQUE,
  session_id text NOT NULL UNIQUE REFERENCES sessions ON DELETE CASCADE
);

CREATE VIEW view_sessions AS
SELECT s.session_id, s.expires, ps.person_id, ns.node_id
FROM sessions s
LEFT JOIN person_session ps USING (session_id)
LEFT JOIN node_session ns USING (session_id);
