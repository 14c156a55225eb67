-- Sites, their addresses and address types, person-site membership, and
-- soft-delete bookkeeping for persons (PLCAPI 5.x, planetlab5.sql). Soft
-- deleted rows keep `deleted` and the time they were deleted; names are
-- unique among live rows only, so they can be used again.

CREATE TABLE sites (
  site_id serial PRIMARY KEY,
  login_base text NOT NULL,
  name text NOT NULL,
  abbreviated_name text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  is_public boolean NOT NULL DEFAULT true,
  max_slices integer NOT NULL DEFAULT 0,
  max_slivers integer NOT NULL DEFAULT 1000,
  latitude float8,
  longitude float8,
  url text,
  ext_consortium_id integer,
  deleted boolean NOT NULL DEFAULT false,
  date_deleted timestamptz,
  date_created timestamptz NOT NULL,
  last_updated timestamptz NOT NULL
);

CREATE UNIQUE INDEX sites_login_base_live ON sites (login_base) WHERE NOT deleted;

ALTER TABLE persons ADD COLUMN date_deleted timestamptz;

-- A person may belong to several sites; exactly one of them is primary
-- while there is any.
CREATE TABLE person_site (
  person_id integer NOT NULL REFERENCES persons ON DELETE CASCADE,
  site_id integer NOT NULL REFERENCES sites ON DELETE CASCADE,
  is_primary boolean NOT NULL DEFAULT false,
  PRIMARY KEY (person_id, site_id)
);

CREATE INDEX person_site_site ON person_site (site_id);

CREATE TABLE address_types (
  address_type_id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text
);

INSERT INTO address_types (name) VALUES ('Personal'), ('Shipping'), ('Billing');

CREATE TABLE addresses (
  address_id serial PRIMARY KEY,
  line1 text NOT NULL,
  line2 text,
  line3 text,
  city text NOT NULL,
  state text NOT NULL,
  postalcode text NOT NULL,
  country text NOT NULL
);

CREATE TABLE address_address_type (
  address_id integer NOT NULL REFERENCES addresses ON DELETE CASCADE,
  address_type_id integer NOT NULL REFERENCES address_types ON DELETE CASCADE,
  PRIMARY KEY (address_id, address_type_id)
);

CREATE TABLE site_address (
  site_id integer NOT NULL REFERENCES sites ON DELETE CASCADE,
  address_id integer NOT NULL REFERENCES addresses ON DELETE CASCADE,
  PRIMARY KEY (site_id, address_id)
);
