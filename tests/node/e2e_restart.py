#!/usr/bin/env python3
"""Issue #6 points 11 and 13, end to end with a real plcd and a real nodemgr (sim backend):
kill -9 of nodemgr loses nothing, and PLC going away and coming back leaves the slivers alone,
then resyncs.

- kill -9: the node holds two plc-instantiated slivers (one with cpu_share 40 from PLC), a loan
  between them and a delegated sliver made from a ticket. nodemgr is killed with SIGKILL and
  started again on its state directory: the same slivers, rspecs, loans and effective rspecs
  come back, the redeemed ticket is still refused as replayed, and a slice PLC added while the
  node manager was down arrives.
- PLC outage: plcd is stopped (SIGTERM); the node manager's polls fail and its push link drops,
  and the slivers stay as they were. plcd starts again on its data directory and ports; a
  change made at PLC then (before the node has reconnected) reaches the node, by push or poll.

Conditions are awaited with a generous deadline; no time is asserted.

Usage: e2e_restart.py PATH_TO_PLCD PATH_TO_NODEMGR
"""

from e2e_common import TestbedCase, fault_of, run_suite, wait_for


class Restart(TestbedCase):
    prefix = "pl-e2e-restart-"

    @classmethod
    def prepare(cls):
        cls.nm = cls.tb.enrol("restart.e2e.example.org", poll_interval=2, push=True)
        cls.nm.out.wait_line(r"event=push_connected")

    def add_slice(self, name, instantiation="plc-instantiated"):
        api, pi = self.tb.plc.api, self.tb.auth["pi"]
        slice_id = api.AddSlice(pi, {"name": name, "url": "https://e2e.example.org/",
                                     "description": "e2e restart",
                                     "instantiation": instantiation})
        api.AddSliceToNodes(pi, slice_id, [self.nm.node_id])
        return slice_id

    def view(self, names):
        """What the node manager shows of `names` through its local API."""
        nm = self.nm
        return {name: (nm.rspec(name), nm.effective(name), nm.api.GetLoans(name))
                for name in names}

    def test_1_kill_9_and_restart_loses_nothing(self):
        nm, api, pi, admin = self.nm, self.tb.plc.api, self.tb.auth["pi"], self.tb.plc.admin
        self.add_slice("e2e_keep_a")
        self.add_slice("e2e_keep_b")
        api.AddSliceTag(admin, "e2e_keep_a", "cpu_share", "40")
        self.add_slice("e2e_keep_d", "delegated")
        ticket = api.GetSliceTicket(pi, "e2e_keep_d")
        wait_for("e2e_keep_a with cpu_share 40",
                 lambda: (nm.rspec("e2e_keep_a") or {}).get("cpu_share") == 40)
        wait_for("e2e_keep_b", lambda: nm.rspec("e2e_keep_b"))
        self.assertEqual(nm.api.SetLoans("e2e_keep_a", [["e2e_keep_b", "cpu_share", 8]]), 1)
        self.assertEqual(nm.api.Ticket(ticket), 1)
        names = ["e2e_keep_a", "e2e_keep_b", "e2e_keep_d"]
        before = self.view(names)
        self.assertEqual(before["e2e_keep_a"][1]["cpu_share"], 32)
        self.assertEqual(before["e2e_keep_b"][1]["cpu_share"], 40)

        nm.kill()
        # PLC gives the node another slice while the node manager is down.
        self.add_slice("e2e_keep_c")
        api.AddSliceTag(admin, "e2e_keep_c", "net_max_rate", "5000")
        nm.start()
        self.assertEqual(self.view(names), before)
        f = fault_of(lambda: nm.api.Ticket(ticket))
        self.assertEqual(f.faultCode, 102, f.faultString)
        self.assertIn("replayed", f.faultString)
        wait_for("the change made while nodemgr was down",
                 lambda: (nm.rspec("e2e_keep_c") or {}).get("net_max_rate") == 5000)
        # The sync kept what was local: the loan and the ticket's sliver.
        self.assertEqual(self.view(names), before)
        self.assertEqual(nm.slivers(), set(names) | {"e2e_keep_c"})

    def test_2_plc_outage_keeps_slivers_then_resyncs(self):
        nm, plc = self.nm, self.tb.plc
        self.add_slice("e2e_outage")
        wait_for("e2e_outage", lambda: nm.rspec("e2e_outage"))
        names = sorted(nm.slivers())
        before = self.view(names)

        failures = nm.log().count("event=poll_failed")
        mark = nm.out.mark()
        self.assertEqual(plc.stop(), 0, "plcd did not stop cleanly on SIGTERM")
        nm.out.wait_line(r"event=push_disconnected", start=mark)
        wait_for("a failed poll", lambda: nm.log().count("event=poll_failed") > failures)
        self.assertIsNone(nm.proc.poll(), "nodemgr ended:\n" + nm.log())
        self.assertEqual(sorted(nm.slivers()), names)
        self.assertEqual(self.view(names), before)

        mark = nm.out.mark()
        plc.start()
        # Right after the restart, before the node is back in touch: a tag and a removal.
        plc.api.AddSliceTag(plc.admin, "e2e_outage", "cpu_share", "24")
        plc.api.DeleteSliceFromNodes(self.tb.auth["pi"], "e2e_keep_b", [nm.node_id])
        wait_for("cpu_share 24 after PLC's restart",
                 lambda: (nm.rspec("e2e_outage") or {}).get("cpu_share") == 24)
        wait_for("e2e_keep_b removed after PLC's restart",
                 lambda: "e2e_keep_b" not in nm.slivers())
        nm.out.wait_line(r"event=push_connected", start=mark)
        self.assertIn("e2e_keep_a", nm.slivers())
        self.assertIsNone(nm.proc.poll(), "nodemgr ended:\n" + nm.log())


if __name__ == "__main__":
    run_suite(__doc__)
