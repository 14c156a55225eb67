-- Tag types with the roles allowed to set them (PLCAPI 5.x, after its
-- migration 104), and the tags of sites and persons. Node and interface tags
-- come with the nodes and interfaces tables.

CREATE TABLE tag_types (
  tag_type_id serial PRIMARY KEY,
  tagname text NOT NULL UNIQUE,
  description text,
  category text NOT NULL DEFAULT 'general'
);

CREATE TABLE tag_type_role (
  tag_type_id integer NOT NULL REFERENCES tag_types ON DELETE CASCADE,
  role_id integer NOT NULL REFERENCES roles ON DELETE CASCADE,
  PRIMARY KEY (tag_type_id, role_id)
);

-- One value per object and tag type, as AddSiteTag/AddPersonTag check; the
-- constraint settles two simultaneous adds.
CREATE TABLE site_tag (
  site_tag_id serial PRIMARY KEY,
  site_id integer NOT NULL REFERENCES sites,
  tag_type_id integer NOT NULL REFERENCES tag_types ON DELETE CASCADE,
  value text,
  UNIQUE (site_id, tag_type_id)
);
CREATE INDEX site_tag_tag_type_id ON site_tag (tag_type_id);

CREATE TABLE person_tag (
  person_tag_id serial PRIMARY KEY,
  person_id integer NOT NULL REFERENCES persons,
  tag_type_id integer NOT NULL REFERENCES tag_types ON DELETE CASCADE,
  value text,
  UNIQUE (person_id, tag_type_id)
);
CREATE INDEX person_tag_tag_type_id ON person_tag (tag_type_id);

-- The standard tag types of PLCAPI 5.x (PLC/Accessors/Accessors_standard.py
-- and db-config.d/030-interface_tags) that are not slice-only. The original
-- also lists the 'node' role (50) where nodes may set a tag; that role joins
-- the roles table with the nodes.
INSERT INTO tag_types (tagname, category, description) VALUES
  ('arch', 'node/slice/config', 'node arch or slivers arch'),
  ('pldistro', 'node/slice/config/sfa', 'PlanetLab distribution to use for node or slivers'),
  ('fcdistro', 'node/slice/config', 'Linux distribution to use for node or slivers'),
  ('virt', 'node/operation', 'typically "vs" or "lxc"'),
  ('deployment', 'node/operation', 'typically "alpha", "beta", or "production"'),
  ('extensions', 'node/config', 'space-separated list of extensions to install'),
  ('hrn', 'node/person/slice/site/sfa', 'SFA human readable name'),
  ('plain-bootstrapfs', 'node/config', 'use uncompressed bootstrapfs when set'),
  ('serial', 'node/bootcd', 'serial to use when creating the boot CD -- see GetBootMedium'),
  ('cramfs', 'node/bootcd', 'boot CD to use cramfs if set -- see GetBootMedium'),
  ('kvariant', 'node/bootcd',
   'the variant to use for creating the boot CD -- see GetBootMedium'),
  ('kargs', 'node/bootcd', 'extra args to pass the kernel on the Boot CD -- see GetBootMedium'),
  ('no-hangcheck', 'node/bootcd', 'disable hangcheck on the boot CD if set -- see GetBootMedium'),
  ('ifname', 'interface/config', 'linux name'),
  ('driver', 'interface/config', 'driver name'),
  ('alias', 'interface/config', 'interface alias'),
  ('backdoor', 'interface/hidden', 'For testing new settings'),
  ('ovs_bridge', 'interface/ovs', 'Name of Open vSwitch bridge'),
  ('ipv6_defaultgw', 'interface/config', 'IPv6 gateway'),
  ('ipv6addr', 'interface/config', 'IPv6 address for the interface'),
  ('ipv6addr_secondaries', 'interface/config', 'IPv6 slice addresses'),
  ('sfa_created', 'person/slice/site/sfa', 'Tag objects created through SFA interfaces'),
  ('disabled_registration', 'site',
   'Sites that have a non-void value are excluded from the drop-down list on the registration'
   ' form');

-- Who may set them: all roles, the tech roles (admin, pi, tech), the
-- interface roles of 030-interface_tags (admin, tech), or admins only.
INSERT INTO tag_type_role (tag_type_id, role_id)
SELECT tt.tag_type_id, r.role_id FROM tag_types tt
JOIN (VALUES
  ('arch', 10), ('arch', 20), ('arch', 30), ('arch', 40),
  ('pldistro', 10), ('pldistro', 20), ('pldistro', 30), ('pldistro', 40),
  ('fcdistro', 10), ('fcdistro', 20), ('fcdistro', 30), ('fcdistro', 40),
  ('virt', 10), ('virt', 20), ('virt', 30), ('virt', 40),
  ('deployment', 10),
  ('extensions', 10),
  ('hrn', 10), ('hrn', 20), ('hrn', 30), ('hrn', 40),
  ('plain-bootstrapfs', 10), ('plain-bootstrapfs', 20), ('plain-bootstrapfs', 40),
  ('serial', 10), ('serial', 20), ('serial', 40),
  ('cramfs', 10), ('cramfs', 20), ('cramfs', 40),
  ('kvariant', 10), ('kvariant', 20), ('kvariant', 40),
  ('kargs', 10), ('kargs', 20), ('kargs', 40),
  ('no-hangcheck', 10), ('no-hangcheck', 20), ('no-hangcheck', 40),
  ('ifname', 10), ('ifname', 20), ('ifname', 40),
  ('driver', 10), ('driver', 20), ('driver', 40),
  ('alias', 10), ('alias', 20), ('alias', 40),
  ('backdoor', 10),
  ('ovs_bridge', 10), ('ovs_bridge', 40),
  ('ipv6_defaultgw', 10), ('ipv6_defaultgw', 40),
  ('ipv6addr', 10), ('ipv6addr', 40),
  ('ipv6addr_secondaries', 10), ('ipv6addr_secondaries', 40),
  ('sfa_created', 10), ('sfa_created', 20), ('sfa_created', 30), ('sfa_created', 40),
  ('disabled_registration', 10)
) AS r (tagname, role_id) ON r.tagname = tt.tagname;
