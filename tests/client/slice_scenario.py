#!/usr/bin/env python3
"""Issue #4's client scenario with Python's standard library against plcd --dev.

A PI creates a slice, adds a user and nodes; cpu_share is set on the slice and on one node
(resource tags are admin-only in PLCAPI 5.x, so the PI is refused and the admin sets them);
the node fetches GetSlivers signed with hmac from its plnode.txt, as NodeManager does, and sees
its own value, the member's key and nothing of other nodes; then the PI gets a ticket and
`plticket` verifies it with PLC's public key while a tampered copy fails.

Usage: slice_scenario.py PATH_TO_PLCD [PATH_TO_PLTICKET]
"""

import os
import subprocess
import sys
import unittest
import urllib.request
import xmlrpc.client

from node_boot import NodeClient, plnode_value
from plcd_dev import make_data_dir, start_plcd, stop_plcd

PLCD = PLTICKET = None
USER_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMK/FJTzMQ4+y2FTGaw1GBH25rHhK/20i0nBv/AH8OEz"
            " user@scenario.org")


class SliceScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.data = make_data_dir("pl-slice-scenario-")
        cls.proc, cls.url, admin_pw, cls.context = start_plcd(PLCD, cls.data)
        cls.admin = {"AuthMethod": "password", "Username": "admin@localhost",
                     "AuthString": admin_pw}
        api = cls.api = xmlrpc.client.ServerProxy(cls.url, context=cls.context, allow_none=True)
        api.AddSite(cls.admin, {"name": "Scenario U", "abbreviated_name": "SU",
                                "login_base": "scen", "max_slices": 5})
        cls.auth = {}
        for actor, role in [("pi", "pi"), ("user", "user")]:
            email = actor + "@scenario.org"
            pid = api.AddPerson(cls.admin, {"first_name": actor, "last_name": "Scenario",
                                            "email": email, "password": actor + "-secret"})
            api.AddPersonToSite(cls.admin, pid, "scen")
            api.AddRoleToPerson(cls.admin, role, pid)
            api.UpdatePerson(cls.admin, pid, {"enabled": True})
            cls.auth[actor] = {"AuthMethod": "password", "Username": email,
                               "AuthString": actor + "-secret"}
        api.AddPersonKey(cls.auth["user"], "user@scenario.org",
                         {"key_type": "ssh", "key": USER_KEY})
        cls.nodes = [api.AddNode(cls.admin, "scen", {"hostname": "node%d.scenario.org" % n})
                     for n in (1, 2)]
        api.AddInterface(cls.admin, cls.nodes[0], {
            "method": "static", "type": "ipv4", "ip": "192.0.2.20", "mac": "02:00:00:00:00:14",
            "gateway": "192.0.2.1", "network": "192.0.2.0", "broadcast": "192.0.2.255",
            "netmask": "255.255.255.0", "dns1": "192.0.2.53"})
        cls.plnode = api.GenerateNodeConfFile(cls.admin, cls.nodes[0])

    @classmethod
    def tearDownClass(cls):
        cls.api("close")()
        stop_plcd(cls.proc, cls.tmp)

    def node(self):
        return NodeClient(self.api, int(plnode_value(self.plnode, "NODE_ID")),
                          plnode_value(self.plnode, "NODE_KEY"))

    def test_1_pi_builds_the_slice_and_the_node_sees_it(self):
        api, pi = self.api, self.auth["pi"]
        slice_id = api.AddSlice(pi, {"name": "scen_exp", "url": "https://scenario.org/exp",
                                     "description": "scenario experiment"})
        api.AddPersonToSlice(pi, "user@scenario.org", slice_id)
        api.AddSliceToNodes(pi, slice_id, self.nodes)
        with self.assertRaises(xmlrpc.client.Fault) as ctx:
            api.AddSliceTag(pi, slice_id, "cpu_share", "32")
        self.assertEqual(ctx.exception.faultCode, 108, ctx.exception.faultString)
        api.AddSliceTag(self.admin, slice_id, "cpu_share", "32")
        api.AddSliceTag(self.admin, slice_id, "cpu_share", "64", self.nodes[0])
        with self.assertRaises(xmlrpc.client.Fault) as ctx:
            api.AddSliceTag(self.admin, slice_id, "cpu_share", "lots")
        self.assertEqual(ctx.exception.faultCode, 102, ctx.exception.faultString)

        data = self.node().GetSlivers()
        self.assertEqual(data["node_id"], self.nodes[0])
        slivers = {s["name"]: s for s in data["slivers"]}
        self.assertIn("scen_exp", slivers)
        sliver = slivers["scen_exp"]
        self.assertEqual(sliver["instantiation"], "plc-instantiated")
        self.assertEqual(sliver["attributes"], [{"tagname": "cpu_share", "value": "64"}])
        self.assertEqual([k["key"] for k in sliver["keys"]], [USER_KEY])
        # The other node gets the slice-wide value; only an admin may ask for it.
        other = api.GetSlivers(self.admin, self.nodes[1])
        other_sliver = [s for s in other["slivers"] if s["name"] == "scen_exp"][0]
        self.assertEqual(other_sliver["attributes"], [{"tagname": "cpu_share", "value": "32"}])
        with self.assertRaises(xmlrpc.client.Fault) as ctx:
            self.node().GetSlivers(self.nodes[1])
        self.assertEqual(ctx.exception.faultCode, 108, ctx.exception.faultString)

    def test_2_ticket_verifies_with_plcs_key(self):
        if not PLTICKET:
            self.skipTest("SKIPPED: no plticket given (a build without actors/tools)")
        ticket = self.api.GetSliceTicket(self.auth["pi"], "scen_exp")
        key = os.path.join(self.tmp, "plc_ticket.pub")
        with open(key, "w") as f:
            f.write(self.ticket_key())
        ok = subprocess.run([PLTICKET, "verify", "--key", key, "--node", str(self.nodes[0]), "-"],
                            input=ticket, text=True, capture_output=True)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        body = ticket[len("pltk1:"):]
        flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
        bad = subprocess.run([PLTICKET, "verify", "--key", key, "-"],
                             input="pltk1:" + flipped, text=True, capture_output=True)
        self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)

    def ticket_key(self):
        """PLC's public ticket key as plcd serves it to nodes."""
        base = self.url.split("/PLCAPI")[0]
        with urllib.request.urlopen(base + "/ticket-key.pem", context=self.context) as r:
            return r.read().decode()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: slice_scenario.py PATH_TO_PLCD [PATH_TO_PLTICKET]")
    PLCD = os.path.abspath(sys.argv.pop(1))
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        PLTICKET = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
