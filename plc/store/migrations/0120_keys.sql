-- Keys and key types (PLCAPI 5.x, planetlab5.sql). Keys are deleted for
-- good; a blacklisted key keeps its row (is_blacklisted, hidden from GetKeys,
-- detached from its person) and its material goes to key_blacklist, which
-- outlives the key rows (DeleteKeyType removes those), so the material can
-- never be added again.

CREATE TABLE key_types (
  key_type text PRIMARY KEY
);

INSERT INTO key_types (key_type) VALUES ('ssh');

CREATE TABLE keys (
  key_id serial PRIMARY KEY,
  key_type text NOT NULL REFERENCES key_types ON DELETE CASCADE,
  key text NOT NULL,
  -- What identifies the key: for ssh keys "<type> <base64>" without the
  -- comment, else the whole value. Blacklisting matches on it.
  material text NOT NULL,
  is_blacklisted boolean NOT NULL DEFAULT false
);

CREATE INDEX keys_material ON keys (material);

CREATE TABLE person_key (
  key_id integer PRIMARY KEY REFERENCES keys ON DELETE CASCADE,
  person_id integer NOT NULL REFERENCES persons ON DELETE CASCADE
);

CREATE INDEX person_key_person ON person_key (person_id);

CREATE TABLE key_blacklist (
  material text PRIMARY KEY
);
