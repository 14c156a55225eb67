#!/usr/bin/env python3
"""Issue #6 point 13, end to end: a delegated slice reaches a real nodemgr (sim backend)
through a ticket, and a ticket for a deleted slice is refused.

A PI makes delegated slices at a real plcd and asks GetSliceTicket for them; the ticket is
handed to the node's local API (Ticket on root's TCP port), which verifies it with PLC's public
key (the node's [api] ticket_key) and creates the sliver. A replayed, a tampered and another
node's ticket are refused with 102 and change nothing. When the PI deletes a slice, PLC revokes
its tickets and pushes the revocation: the sliver goes and a second ticket of that slice is
refused as revoked. Conditions are awaited with a generous deadline; no time is asserted.

Usage: e2e_tickets.py PATH_TO_PLCD PATH_TO_NODEMGR
"""

import base64

from e2e_common import TestbedCase, fault_of, run_suite, wait_for


class Tickets(TestbedCase):
    prefix = "pl-e2e-tickets-"

    @classmethod
    def prepare(cls):
        # Push (revocations arrive at once) and polling, as a production node runs.
        cls.nm = cls.tb.enrol("tk.e2e.example.org", poll_interval=2, push=True)
        cls.nm.out.wait_line(r"event=push_connected")
        api, admin = cls.tb.plc.api, cls.tb.plc.admin
        cls.other_node = api.AddNode(admin, cls.tb.site, {"hostname": "elsewhere.e2e.example.org"})

    def delegated_slice(self, name, nodes, cpu_share=None, instantiation="delegated"):
        api, pi = self.tb.plc.api, self.tb.auth["pi"]
        slice_id = api.AddSlice(pi, {"name": name, "url": "https://e2e.example.org/",
                                     "description": "e2e tickets",
                                     "instantiation": instantiation})
        api.AddSliceToNodes(pi, slice_id, nodes)
        if cpu_share is not None:
            api.AddSliceTag(self.tb.plc.admin, slice_id, "cpu_share", str(cpu_share))
        return slice_id

    def test_1_ticket_creates_the_delegated_sliver_once(self):
        nm, api, pi = self.nm, self.tb.plc.api, self.tb.auth["pi"]
        self.delegated_slice("e2e_deleg", [nm.node_id], cpu_share=48)
        ticket = api.GetSliceTicket(pi, "e2e_deleg")
        self.assertTrue(ticket.startswith("pltk1:"))
        # Delegated: the node does not create it on its own, whatever it has polled.
        self.assertIsNone(nm.phase("e2e_deleg"))

        # Tampered and other-node tickets are refused and use up nothing.
        blob = bytearray(base64.b64decode(ticket[len("pltk1:"):]))
        blob[len(blob) - 64 - 1] ^= 0x01  # the last signed byte
        tampered = "pltk1:" + base64.b64encode(bytes(blob)).decode()
        f = fault_of(lambda: nm.api.Ticket(tampered))
        self.assertEqual(f.faultCode, 102, f.faultString)
        self.assertRegex(f.faultString, r"bad_signature|malformed")
        # (A delegated slice's ticket is good on any node, as GetSlivers lists delegated
        # slices everywhere; a plc-instantiated slice's names its nodes.)
        self.delegated_slice("e2e_away", [self.other_node], instantiation="plc-instantiated")
        f = fault_of(lambda: nm.api.Ticket(api.GetSliceTicket(pi, "e2e_away")))
        self.assertEqual(f.faultCode, 102, f.faultString)
        self.assertIn("wrong_node", f.faultString)
        self.assertIsNone(nm.phase("e2e_deleg"))
        self.assertIsNone(nm.phase("e2e_away"))

        self.assertEqual(nm.api.Ticket(ticket), 1)
        wait_for("e2e_deleg running", lambda: nm.phase("e2e_deleg") == "running")
        self.assertEqual(nm.rspec("e2e_deleg")["cpu_share"], 48)
        record = nm.as_sliver("e2e_deleg").GetRecord()
        self.assertEqual(record["instantiation"], "delegated")
        self.assertEqual(record["name"], "e2e_deleg")

        f = fault_of(lambda: nm.api.Ticket(ticket))
        self.assertEqual(f.faultCode, 102, f.faultString)
        self.assertIn("replayed", f.faultString)
        # PLC's next polls list the slice; the sliver stays.
        polls = self.tb.plc.calls("GetSlivers")
        wait_for("two more polls", lambda: self.tb.plc.calls("GetSlivers") >= polls + 2)
        self.assertEqual(nm.phase("e2e_deleg"), "running")

    def test_2_ticket_of_a_deleted_slice_is_refused(self):
        nm, api, pi = self.nm, self.tb.plc.api, self.tb.auth["pi"]
        slice_id = self.delegated_slice("e2e_gone", [nm.node_id])
        first = api.GetSliceTicket(pi, "e2e_gone")
        second = api.GetSliceTicket(pi, "e2e_gone")
        self.assertEqual(nm.api.Ticket(first), 1)
        wait_for("e2e_gone running", lambda: nm.phase("e2e_gone") == "running")

        mark = nm.out.mark()
        api.DeleteSlice(pi, slice_id)
        # PLC revokes the slice's tickets and pushes the revocation, which reaches the node's
        # ticket desk (nodemgr says so) whatever the polls bring; the sliver goes ...
        nm.out.wait_line(r"event=slice_revoked slice=e2e_gone ", start=mark)
        wait_for("e2e_gone removed", lambda: "e2e_gone" not in nm.slivers())
        # ... and the ticket it had not seen yet is refused.
        f = fault_of(lambda: nm.api.Ticket(second))
        self.assertEqual(f.faultCode, 102, f.faultString)
        self.assertIn("revoked", f.faultString)
        self.assertNotIn("e2e_gone", nm.slivers())
        self.assertIsNone(nm.rspec("e2e_gone"))
        # The other delegated sliver is untouched.
        self.assertEqual(nm.phase("e2e_deleg"), "running")


if __name__ == "__main__":
    run_suite(__doc__)
