#!/usr/bin/env python3
"""Slice tickets end to end with stock tools: `plcd --dev` issues, `plticket` verifies.

The admin creates a site, a PI and a user (through the API), a node and a slice on
it with cpu_share set; the PI and the member get tickets with Python's
xmlrpc.client over HTTPS, a stranger is refused. PLC's public key comes from
GET /ticket-key.pem (and equals `plcd --print-ticket-key`); `plticket verify
--key` accepts the ticket on the slice's node, refuses it on another node, and
refuses a tampered copy. Uses only the standard library.

Usage: slice_tickets.py PATH_TO_PLCD PATH_TO_PLTICKET
"""

import base64
import json
import os
import subprocess
import sys
import unittest
import urllib.request
import xmlrpc.client

from plcd_dev import make_data_dir, start_plcd, stop_plcd

PLCD = PLTICKET = None



class SliceTickets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.data = make_data_dir("pl-slice-tickets-")
        cls.proc, cls.url, admin_pw, cls.context = start_plcd(PLCD, cls.data)
        cls.api = xmlrpc.client.ServerProxy(cls.url, context=cls.context, allow_none=True)
        api = cls.api
        admin = {"AuthMethod": "password", "Username": "admin@localhost", "AuthString": admin_pw}
        cls.auth = {"admin": admin}
        site = api.AddSite(admin, {"name": "Ticket Site", "abbreviated_name": "T",
                                   "login_base": "tk", "max_slices": 5})
        for actor, role in (("pi", "pi"), ("user", "user"), ("stranger", "user")):
            email = "%s@tk.example.org" % actor
            pid = api.AddPerson(admin, {"first_name": actor, "last_name": "Test",
                                        "email": email, "password": "secret-" + actor})
            api.AddRoleToPerson(admin, role, pid)
            api.AddPersonToSite(admin, pid, site)
            api.UpdatePerson(admin, pid, {"enabled": True})
            cls.auth[actor] = {"AuthMethod": "password", "Username": email,
                               "AuthString": "secret-" + actor}
        cls.node = api.AddNode(admin, site, {"hostname": "n1.tk.example.org"})
        cls.other_node = api.AddNode(admin, site, {"hostname": "n2.tk.example.org"})
        cls.slice = api.AddSlice(cls.auth["pi"], {"name": "tk_demo", "url": "http://tk.example.org",
                                                  "description": "tickets"})
        api.AddPersonToSlice(cls.auth["pi"], "user@tk.example.org", cls.slice)
        api.AddSliceToNodes(cls.auth["pi"], cls.slice, [cls.node])
        api.AddSliceTag(admin, cls.slice, "cpu_share", "64")
        key_url = cls.url.replace("/PLCAPI/", "/ticket-key.pem")
        with urllib.request.urlopen(key_url, context=cls.context) as reply:
            cls.pem = reply.read().decode()
        cls.key_file = os.path.join(cls.tmp, "plc.pub")
        with open(cls.key_file, "w") as f:
            f.write(cls.pem)

    @classmethod
    def tearDownClass(cls):
        cls.api("close")()
        stop_plcd(cls.proc, cls.tmp)

    def verify(self, ticket, node):
        """Runs plticket verify; returns (exit status, parsed JSON)."""
        r = subprocess.run([PLTICKET, "verify", "--key", self.key_file, "--node", str(node), "-"],
                           input=ticket, capture_output=True, text=True, timeout=60)
        return r.returncode, json.loads(r.stdout)

    def test_public_key_is_published_and_printed(self):
        self.assertTrue(self.pem.startswith("-----BEGIN PUBLIC KEY-----"))
        printed = subprocess.run([PLCD, "--dev", "--data-dir", self.data, "--print-ticket-key"],
                                 capture_output=True, text=True, timeout=60)
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertEqual(printed.stdout, self.pem)
        with open(os.path.join(self.data, "keys", "ticket.pub")) as f:
            self.assertEqual(f.read(), self.pem)

    def test_ticket_verifies_and_carries_the_slice(self):
        ticket = self.api.GetSliceTicket(self.auth["pi"], "tk_demo")
        self.assertTrue(ticket.startswith("pltk1:"))
        status, out = self.verify(ticket, self.node)
        self.assertEqual(status, 0, out)
        self.assertTrue(out["valid"])
        body = out["ticket"]
        self.assertEqual(body["slice_name"], "tk_demo")
        self.assertEqual(body["slice_id"], self.slice)
        self.assertEqual(body["node_ids"], [self.node])
        self.assertEqual(body["attributes"], {"cpu_share": "64"})
        # The member gets one too, by id; each ticket is unique.
        again = self.api.GetSliceTicket(self.auth["user"], self.slice)
        self.assertNotEqual(again, ticket)
        self.assertEqual(self.verify(again, self.node)[0], 0)

    def test_wrong_node_and_tampered_copies_are_refused(self):
        ticket = self.api.GetSliceTicket(self.auth["admin"], self.slice)
        status, out = self.verify(ticket, self.other_node)
        self.assertEqual(status, 1)
        self.assertEqual(out["verdict"], "wrong_node")
        # Flip one bit of the signed content: the signature no longer matches.
        blob = bytearray(base64.b64decode(ticket[len("pltk1:"):]))
        blob[len(blob) - 64 - 1] ^= 0x01  # the last byte before the 64-byte signature
        tampered = "pltk1:" + base64.b64encode(bytes(blob)).decode()
        status, out = self.verify(tampered, self.node)
        self.assertEqual(status, 1)
        self.assertIn(out["verdict"], ("bad_signature", "malformed"))
        self.assertFalse(out["valid"])

    def test_only_members_pis_and_admins_get_tickets(self):
        with self.assertRaises(xmlrpc.client.Fault) as ctx:
            self.api.GetSliceTicket(self.auth["stranger"], self.slice)
        self.assertEqual(ctx.exception.faultCode, 108)
        with self.assertRaises(xmlrpc.client.Fault) as ctx:
            self.api.GetSliceTicket(self.auth["admin"], "tk_nosuch")
        self.assertEqual(ctx.exception.faultCode, 102)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    PLCD, PLTICKET = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
