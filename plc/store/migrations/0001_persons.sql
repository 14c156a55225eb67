-- Roles and persons: enough for authentication. Later migrations add the
-- rest of the AdminDB (sites, nodes, keys, ...). Timestamps are written by
-- PLC from its injectable clock, never by SQL now(), so the simulator can run
-- PLC in virtual time.

CREATE TABLE roles (
  role_id integer PRIMARY KEY,
  name text NOT NULL UNIQUE
);

INSERT INTO roles (role_id, name) VALUES
  (10, 'admin'), (20, 'pi'), (30, 'user'), (40, 'tech');

CREATE TABLE persons (
  person_id serial PRIMARY KEY,
  email text NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  title text,
  phone text,
  url text,
  bio text,
  enabled boolean NOT NULL DEFAULT false,
  -- A KDF string ($scrypt$...), or a legacy MD5-crypt string ($1$...) for
  -- imported accounts; never a plain password.
  password text NOT NULL DEFAULT 'nopass',
  verification_key text,
  verification_expires timestamptz,
  deleted boolean NOT NULL DEFAULT false,
  date_created timestamptz NOT NULL,
  last_updated timestamptz NOT NULL
);

-- E-mail addresses are unique among live accounts only, so a deleted
-- account's address can be used again.
CREATE UNIQUE INDEX persons_email_live ON persons (lower(email)) WHERE NOT deleted;

CREATE TABLE person_role (
  person_id integer NOT NULL REFERENCES persons ON DELETE CASCADE,
  role_id integer NOT NULL REFERENCES roles,
  PRIMARY KEY (person_id, role_id)
);
