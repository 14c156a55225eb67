-- The slice tag types that are not resources, with PLCAPI 5.x's role lists
-- (db-config.d/010-slice_tags and PLC/Accessors/Accessors_standard.py; a type
-- without a list there is admin-only). The resource tag types (cpu_share,
-- net_max_rate, ...) are not listed here: plcd creates them at start-up from
-- the resource table in actors/ (plc/api/slice_tags.hpp), so a new resource
-- needs no migration.
INSERT INTO tag_types (tagname, category, description) VALUES
  ('enabled', 'slice/general', 'Slice enabled (1 or unset) or suspended (0)'),
  ('system', 'slice/general', 'Is a default system slice (1) or not (0 or unset)'),
  ('initscript', 'slice/usertools', 'Slice initialization script name (see GetInitScripts)'),
  ('initscript_code', 'slice/usertools',
   'Slice initialization script code; if set, it supersedes initscript'),
  ('vref', 'slice/config', 'vserver reference image name'),
  ('proper_op', 'slice/rspec', 'Proper operation granted to the slice (e.g. bind_socket)'),
  ('delegations', 'slice/rspec',
   'Comma-separated list of slices to give delegation authority to'),
  ('vsys', 'slice/rspec', 'Bind a vsys script to the slice''s /vsys directory');

INSERT INTO tag_type_role (tag_type_id, role_id)
SELECT tt.tag_type_id, r.role_id FROM tag_types tt
JOIN (VALUES
  ('enabled', 10),
  ('system', 10),
  ('initscript', 10), ('initscript', 20), ('initscript', 30),
  ('initscript_code', 10), ('initscript_code', 20), ('initscript_code', 30),
  ('vref', 10), ('vref', 20), ('vref', 30), ('vref', 50),
  ('proper_op', 10),
  ('delegations', 10), ('delegations', 20), ('delegations', 30),
  ('vsys', 10), ('vsys', 20), ('vsys', 30), ('vsys', 40)
) AS r (tagname, role_id) ON r.tagname = tt.tagname;
