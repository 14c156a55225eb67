#!/usr/bin/env python3
"""Issue #6 point 13, end to end: a slice reaches a real nodemgr (sim backend) from a real
plcd by push alone, and by polling alone.

Each node is enrolled as a user does it (AddNode, GenerateNodeConfFile -> plnode.txt ->
nodemgr --config). The push-only node has polling off (interval 0) and no PLC URL: the slice, a
tag change and the removal arrive while PLC answers no GetSlivers at all (plcd's /metrics). The
poll-only node has no push endpoint configured and polls every second: the same changes arrive
through GetSlivers. A push-only node that knows PLC's URL catches up after a restart on a slice
added while it was down (pushes carry changes only). No elapsed time is asserted; each condition is awaited with a generous deadline.

Usage: e2e_sync.py PATH_TO_PLCD PATH_TO_NODEMGR
"""

from e2e_common import TestbedCase, run_suite, wait_for


class Sync(TestbedCase):
    prefix = "pl-e2e-sync-"

    def run_changes(self, nm, slice_name):
        """A PI adds a slice to the node, the admin sets cpu_share, the PI removes the node:
        each reaches the node manager."""
        api, pi, admin = self.tb.plc.api, self.tb.auth["pi"], self.tb.plc.admin
        slice_id = api.AddSlice(pi, {"name": slice_name, "url": "https://e2e.example.org/",
                                     "description": "e2e sync"})
        self.assertIsNone(nm.rspec(slice_name))
        api.AddSliceToNodes(pi, slice_id, [nm.node_id])
        rspec = wait_for(slice_name + " on the node", lambda: nm.rspec(slice_name))
        self.assertEqual(rspec["cpu_share"], 32)  # the resource table's default
        self.assertIn(slice_name, nm.slivers())
        # The sliver runs, as its own record says (GetRecord through its socket).
        wait_for(slice_name + " running", lambda: nm.phase(slice_name) == "running")

        api.AddSliceTag(admin, slice_id, "cpu_share", "64")
        wait_for("cpu_share 64 on the node",
                 lambda: (nm.rspec(slice_name) or {}).get("cpu_share") == 64)
        self.assertEqual(nm.effective(slice_name)["cpu_share"], 64)

        api.DeleteSliceFromNodes(pi, slice_id, [nm.node_id])
        wait_for(slice_name + " gone from the node", lambda: slice_name not in nm.slivers())
        self.assertIsNone(nm.rspec(slice_name))
        wait_for(slice_name + "'s socket gone", lambda: nm.phase(slice_name) is None)

    def test_1_push_alone_with_polling_off(self):
        # No PLC URL either: nothing but the push link can reach this node.
        nm = self.tb.enrol("push.e2e.example.org", poll_interval=0, push=True, plc_url=False)
        nm.out.wait_line(r"event=push_connected node_id=%d" % nm.node_id)
        self.run_changes(nm, "e2e_pushed")
        # Nothing was polled: PLC answered no GetSlivers (and no node session was asked for).
        self.assertEqual(self.tb.plc.calls("GetSlivers"), 0)
        self.assertEqual(self.tb.plc.calls("GetSession"), 0)
        self.assertIsNone(nm.proc.poll(), "nodemgr ended:\n" + nm.log())

    def test_2_polling_alone_with_push_off(self):
        before = self.tb.plc.calls("GetSlivers")
        nm = self.tb.enrol("poll.e2e.example.org", poll_interval=1, push=False)
        self.run_changes(nm, "e2e_polled")
        self.assertGreater(self.tb.plc.calls("GetSlivers"), before)
        self.assertNotIn("push_connected", nm.log())
        self.assertIsNone(nm.proc.poll(), "nodemgr ended:\n" + nm.log())

    def test_3_push_only_node_catches_up_on_what_it_missed(self):
        # Pushes carry changes only: a push-only node that knows PLC's URL asks GetSlivers at
        # the start and after each push connect, so what changed while it was down arrives.
        api, pi = self.tb.plc.api, self.tb.auth["pi"]
        nm = self.tb.enrol("catchup.e2e.example.org", poll_interval=0, push=True)
        nm.out.wait_line(r"event=push_connected")
        nm.stop()
        slice_id = api.AddSlice(pi, {"name": "e2e_missed", "url": "https://e2e.example.org/",
                                     "description": "added while the node was down"})
        api.AddSliceToNodes(pi, slice_id, [nm.node_id])
        before = self.tb.plc.calls("GetSlivers")
        nm.start()
        wait_for("e2e_missed after the restart", lambda: nm.rspec("e2e_missed"))
        wait_for("e2e_missed running", lambda: nm.phase("e2e_missed") == "running")
        self.assertGreater(self.tb.plc.calls("GetSlivers"), before)
        # Later changes still come by push.
        api.AddSliceTag(self.tb.plc.admin, slice_id, "cpu_share", "16")
        wait_for("cpu_share 16", lambda: (nm.rspec("e2e_missed") or {}).get("cpu_share") == 16)


if __name__ == "__main__":
    run_suite(__doc__)
