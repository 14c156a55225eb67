-- Organizations (seed 2.2; PLCAPI never had them): an organization groups
-- sites, and a member of an organization who holds the pi role has PI rights
-- over every site of the organization.

CREATE TABLE organizations (
  organization_id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text,
  url text,
  date_created timestamptz NOT NULL,
  last_updated timestamptz NOT NULL
);

CREATE TABLE organization_site (
  organization_id integer NOT NULL REFERENCES organizations ON DELETE CASCADE,
  site_id integer NOT NULL REFERENCES sites ON DELETE CASCADE,
  PRIMARY KEY (organization_id, site_id)
);

CREATE TABLE organization_person (
  organization_id integer NOT NULL REFERENCES organizations ON DELETE CASCADE,
  person_id integer NOT NULL REFERENCES persons ON DELETE CASCADE,
  PRIMARY KEY (organization_id, person_id)
);

CREATE INDEX organization_person_person ON organization_person (person_id);
