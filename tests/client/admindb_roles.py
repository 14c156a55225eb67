#!/usr/bin/env python3
"""The AdminDB permission rules played by admin, PI, tech and user through a stock
client (Python's xmlrpc.client over HTTPS) against `plcd --dev`.

The admin creates two sites and, through the API, accounts with the roles pi,
user and tech at site A and a PI at site B, enables them and sets their
passwords; each actor then calls what the rules allow and refuse (sites,
persons, roles, keys and blacklisting, PCUs, conf files). Two simultaneous
AddSite calls with one login_base: exactly one succeeds, the other gets 102.
Uses only the standard library.

Usage: admindb_roles.py PATH_TO_PLCD
"""

import base64
import os
import struct
import sys
import threading
import unittest
import xmlrpc.client

from plcd_dev import make_data_dir, start_plcd, stop_plcd

PLCD = None



def ssh_key(seed, comment="me@host"):
    """Returns a well-formed ssh-ed25519 public key line unique to `seed`."""
    def wire(b):
        return struct.pack(">I", len(b)) + b
    point = (seed.encode() + b"k" * 32)[:32]
    blob = base64.b64encode(wire(b"ssh-ed25519") + wire(point)).decode()
    return "ssh-ed25519 %s %s" % (blob, comment)


class AdminDbRoles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.data = make_data_dir("pl-admindb-roles-")
        cls.proc, cls.url, admin_pw, cls.context = start_plcd(PLCD, cls.data)
        cls.auth = {"admin": {"AuthMethod": "password", "Username": "admin@localhost",
                              "AuthString": admin_pw}}
        cls.ids = {}
        cls.shared = cls.proxy()  # one keep-alive connection for the sequential calls
        api = cls.shared
        cls.site_a = api.AddSite(cls.auth["admin"], {"name": "Site A", "abbreviated_name": "A",
                                                      "login_base": "sitea"})
        cls.site_b = api.AddSite(cls.auth["admin"], {"name": "Site B", "abbreviated_name": "B",
                                                      "login_base": "siteb"})
        for actor, role, site in [("pi", "pi", "sitea"), ("user", "user", "sitea"),
                                  ("tech", "tech", "sitea"), ("pi_b", "pi", "siteb")]:
            email = actor + "@example.org"
            pid = api.AddPerson(cls.auth["admin"], {"first_name": actor, "last_name": "Test",
                                                    "email": email})
            api.AddPersonToSite(cls.auth["admin"], pid, site)
            api.AddRoleToPerson(cls.auth["admin"], role, pid)
            password = "pw-" + actor
            api.UpdatePerson(cls.auth["admin"], pid, {"enabled": True, "password": password})
            cls.ids[actor] = pid
            cls.auth[actor] = {"AuthMethod": "password", "Username": email,
                               "AuthString": password}

    @classmethod
    def tearDownClass(cls):
        cls.shared("close")()
        stop_plcd(cls.proc, cls.tmp)

    @classmethod
    def proxy(cls):
        return xmlrpc.client.ServerProxy(cls.url, context=cls.context, allow_none=True)

    def call(self, actor, method, *args):
        return getattr(self.shared, method)(self.auth[actor], *args)

    def fault(self, actor, method, *args):
        """Returns the fault code of the call, 0 if it succeeded."""
        try:
            self.call(actor, method, *args)
            return 0
        except xmlrpc.client.Fault as f:
            return f.faultCode

    def test_01_accounts_work(self):
        for actor in ("pi", "user", "tech", "pi_b"):
            self.assertEqual(self.call(actor, "AuthCheck"), 1)

    def test_02_sites(self):
        self.assertEqual(self.fault("pi", "AddSite", {"name": "x", "abbreviated_name": "x",
                                                      "login_base": "x"}), 103)
        self.assertEqual(self.fault("pi", "UpdateSite", self.site_a, {"url": "http://a"}), 0)
        self.assertEqual(self.fault("pi", "UpdateSite", self.site_b, {"url": "http://b"}), 108)
        self.assertEqual(self.fault("user", "UpdateSite", self.site_a, {"url": "x"}), 103)
        self.call("pi", "UpdateSite", self.site_a, {"max_slices": 99})  # silently dropped
        site = self.call("user", "GetSites", [self.site_a])[0]
        self.assertEqual(site["max_slices"], 0)
        self.assertEqual(self.fault("pi", "DeleteSite", self.site_b), 103)

    def test_03_who_sees_whom(self):
        def seen(actor):
            return {p["person_id"] for p in self.call(actor, "GetPersons", None, ["person_id"])}
        at_a = {self.ids["pi"], self.ids["user"], self.ids["tech"]}
        self.assertEqual(seen("user"), {self.ids["user"]})
        self.assertEqual(seen("tech"), at_a)
        self.assertEqual(seen("pi"), at_a)
        self.assertEqual(seen("pi_b"), {self.ids["pi_b"]})
        self.assertTrue(at_a | {self.ids["pi_b"]} <= seen("admin"))
        for p in self.call("admin", "GetPersons", None, ["person_id", "password"]):
            self.assertNotIn("password", p)

    def test_04_who_updates_whom(self):
        self.assertEqual(self.fault("pi", "UpdatePerson", self.ids["user"], {"title": "Dr"}), 0)
        self.assertEqual(self.fault("pi", "UpdatePerson", self.ids["pi_b"], {"title": "Dr"}), 108)
        self.assertEqual(self.fault("user", "UpdatePerson", self.ids["tech"], {"title": "Dr"}),
                         108)
        self.assertEqual(self.fault("tech", "UpdatePerson", self.ids["tech"], {"title": "Dr"}), 0)
        self.assertEqual(self.fault("pi_b", "UpdatePerson", self.ids["user"], {"title": "x"}), 108)

    def test_05_roles(self):
        self.assertEqual(self.fault("pi", "AddRoleToPerson", "tech", self.ids["user"]), 0)
        self.assertIn("tech", self.call("admin", "GetPersons", [self.ids["user"]])[0]["roles"])
        self.assertEqual(self.fault("pi", "DeleteRoleFromPerson", "tech", self.ids["user"]), 0)
        self.assertEqual(self.fault("pi", "AddRoleToPerson", "pi", self.ids["user"]), 102)
        self.assertEqual(self.fault("pi", "AddRoleToPerson", "admin", self.ids["user"]), 102)
        self.assertEqual(self.fault("pi_b", "AddRoleToPerson", "tech", self.ids["user"]), 108)
        self.assertEqual(self.fault("user", "AddRoleToPerson", "tech", self.ids["user"]), 103)

    def test_06_keys_and_blacklist(self):
        key = ssh_key("user")
        kid = self.call("user", "AddPersonKey", self.ids["user"], {"key_type": "ssh", "key": key})
        self.assertEqual(self.fault("user", "AddPersonKey", self.ids["tech"],
                                    {"key_type": "ssh", "key": ssh_key("x")}), 108)
        self.assertEqual(self.fault("pi", "AddPersonKey", self.ids["user"],
                                    {"key_type": "ssh", "key": ssh_key("y")}), 108)
        self.assertEqual(self.fault("user", "AddPersonKey", self.ids["user"],
                                    {"key_type": "ssh", "key": "ssh-rsa AAAA x"}), 102)
        self.assertEqual([k["key_id"] for k in self.call("user", "GetKeys")], [kid])
        self.assertEqual(self.call("pi", "GetKeys", [kid]), [])
        self.assertEqual(self.fault("tech", "DeleteKey", kid), 108)
        self.assertEqual(self.fault("pi", "BlacklistKey", kid), 103)
        self.assertEqual(self.fault("admin", "BlacklistKey", kid), 0)
        self.assertEqual(self.call("admin", "GetKeys", [kid]), [])
        self.assertEqual(self.fault("tech", "AddPersonKey", self.ids["tech"],
                                    {"key_type": "ssh", "key": ssh_key("user", "other")}), 102)
        self.assertEqual(self.call("user", "GetKeyTypes"), ["ssh"])

    def test_07_pcus(self):
        pcu = self.call("tech", "AddPCU", "sitea", {"ip": "192.0.2.1", "hostname": "pcu-a"})
        self.assertEqual(self.fault("tech", "AddPCU", "siteb", {"ip": "192.0.2.2"}), 108)
        self.assertEqual(self.fault("user", "AddPCU", "sitea", {"ip": "192.0.2.3"}), 103)
        self.assertEqual([p["pcu_id"] for p in self.call("pi", "GetPCUs")], [pcu])
        self.assertEqual(self.call("pi_b", "GetPCUs"), [])
        self.assertEqual(self.fault("pi_b", "UpdatePCU", pcu, {"notes": "x"}), 108)
        self.assertEqual(self.fault("pi", "UpdatePCU", pcu, {"notes": "x"}), 0)
        self.assertEqual(self.call("admin", "GetSites", [self.site_a])[0]["pcu_ids"], [pcu])
        self.assertEqual(self.fault("pi_b", "DeletePCU", pcu), 108)
        self.assertEqual(self.fault("tech", "DeletePCU", pcu), 0)

    def test_08_conf_files(self):
        fields = {"source": "PlanetLabConf/a", "dest": "/etc/a"}
        for actor in ("pi", "user", "tech"):
            self.assertEqual(self.fault(actor, "AddConfFile", fields), 103)
            self.assertEqual(self.fault(actor, "GetConfFiles"), 103)
        cid = self.call("admin", "AddConfFile", fields)
        self.assertEqual(self.call("admin", "GetConfFiles", [cid])[0]["file_permissions"], "0644")

    def test_09_concurrent_add_site(self):
        results = [None, None]
        barrier = threading.Barrier(2)

        def add(n):
            with self.proxy() as api:  # a connection of its own
                api.AuthCheck(self.auth["admin"])  # connected before the race starts
                barrier.wait()
                try:
                    results[n] = api.AddSite(self.auth["admin"], {
                        "name": "Race %d" % n, "abbreviated_name": "R", "login_base": "race"})
                except xmlrpc.client.Fault as f:
                    results[n] = f

        threads = [threading.Thread(target=add, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wins = [r for r in results if isinstance(r, int)]
        faults = [r for r in results if isinstance(r, xmlrpc.client.Fault)]
        self.assertEqual(len(wins), 1, results)
        self.assertEqual(len(faults), 1, results)
        self.assertEqual(faults[0].faultCode, 102)
        self.assertEqual(len(self.call("admin", "GetSites", {"login_base": "race"})), 1)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    PLCD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
