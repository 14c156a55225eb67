#!/usr/bin/env python3
"""Issue #6 point 13, end to end: SetLoans moves shares between slivers on a real nodemgr
(sim backend) whose slivers came from a real plcd.

Two slices on the node, cpu_share 50 (set at PLC) and the default 32. The lender's SetLoans on
the node's local API (root's TCP port) lends 10 of its cpu_share and 1000 kbps of net_max_rate;
GetEffectiveRSpec shows both sides moved while GetRSpec keeps PLC's values. An overdraw (below
node manager 1.5's minimum of 32 shares), a non-loanable resource and a stranger are refused
with 102 and change nothing; PLC raising the lender's share keeps the loan. From inside the
slivers (their unix sockets) the borrower may not change the lender's loans (108) and the lender
ends them with an empty list.

Usage: e2e_loans.py PATH_TO_PLCD PATH_TO_NODEMGR
"""

from e2e_common import TestbedCase, fault_of, run_suite, wait_for


class Loans(TestbedCase):
    prefix = "pl-e2e-loans-"

    @classmethod
    def prepare(cls):
        cls.nm = nm = cls.tb.enrol("loans.e2e.example.org", poll_interval=2, push=True)
        api, pi, admin = cls.tb.plc.api, cls.tb.auth["pi"], cls.tb.plc.admin
        cls.ids = {}
        for name in ("e2e_lender", "e2e_borrower"):
            cls.ids[name] = api.AddSlice(pi, {"name": name, "url": "https://e2e.example.org/",
                                              "description": "e2e loans"})
            api.AddSliceToNodes(pi, name, [nm.node_id])
        api.AddSliceTag(admin, "e2e_lender", "cpu_share", "50")
        wait_for("both slivers with PLC's shares", lambda: (
            (nm.rspec("e2e_lender") or {}).get("cpu_share") == 50
            and nm.rspec("e2e_borrower") is not None))

    def shares(self, resource):
        nm = self.nm
        return (nm.effective("e2e_lender")[resource], nm.effective("e2e_borrower")[resource])

    def test_loans_move_shares_and_refusals_change_nothing(self):
        nm = self.nm
        self.assertEqual(self.shares("cpu_share"), (50, 32))
        self.assertEqual(self.shares("net_max_rate"), (1000000, 1000000))
        self.assertEqual(nm.api.GetLoans("e2e_lender"), [])

        loans = [["e2e_borrower", "cpu_share", 10], ["e2e_borrower", "net_max_rate", 1000]]
        self.assertEqual(nm.api.SetLoans("e2e_lender", loans), 1)
        self.assertEqual(nm.api.GetLoans("e2e_lender"), loans)
        self.assertEqual(self.shares("cpu_share"), (40, 42))
        self.assertEqual(self.shares("net_max_rate"), (999000, 1001000))
        # PLC's rspec is unchanged: loans live on the node.
        self.assertEqual(nm.rspec("e2e_lender")["cpu_share"], 50)
        self.assertEqual(nm.rspec("e2e_borrower")["cpu_share"], 32)

        # An overdraw and a resource that cannot be lent are refused as a whole.
        f = fault_of(lambda: nm.api.SetLoans("e2e_lender", [["e2e_borrower", "cpu_share", 19]]))
        self.assertEqual(f.faultCode, 102, f.faultString)
        f = fault_of(lambda: nm.api.SetLoans("e2e_lender", [["e2e_borrower", "disk_max", 5]]))
        self.assertEqual(f.faultCode, 102, f.faultString)
        f = fault_of(lambda: nm.api.SetLoans("e2e_lender", [["e2e_nobody", "cpu_share", 5]]))
        self.assertEqual(f.faultCode, 102, f.faultString)
        self.assertEqual(nm.api.GetLoans("e2e_lender"), loans)
        self.assertEqual(self.shares("cpu_share"), (40, 42))

        # PLC gives the lender more: the loan stays and the effective share follows.
        self.tb.plc.api.UpdateSliceTag(self.tb.plc.admin, self.lender_tag(), "60")
        wait_for("cpu_share 60 from PLC",
                 lambda: nm.rspec("e2e_lender")["cpu_share"] == 60)
        self.assertEqual(self.shares("cpu_share"), (50, 42))
        self.assertEqual(nm.api.GetLoans("e2e_lender"), loans)

        # From inside the slivers: the borrower may not touch the lender's loans (108); the
        # lender itself may, through its own socket.
        wait_for("both slivers running", lambda: (
            nm.phase("e2e_lender") == "running" and nm.phase("e2e_borrower") == "running"))
        f = fault_of(lambda: nm.as_sliver("e2e_borrower").SetLoans("e2e_lender", []))
        self.assertEqual(f.faultCode, 108, f.faultString)
        self.assertEqual(nm.as_sliver("e2e_borrower").GetLoans("e2e_borrower"), [])
        self.assertEqual(nm.api.GetLoans("e2e_lender"), loans)
        self.assertEqual(nm.as_sliver("e2e_lender").SetLoans("e2e_lender", []), 1)
        self.assertEqual(self.shares("cpu_share"), (60, 32))
        self.assertEqual(self.shares("net_max_rate"), (1000000, 1000000))
        self.assertIsNone(nm.proc.poll(), "nodemgr ended:\n" + nm.log())

    def lender_tag(self):
        tags = self.tb.plc.api.GetSliceTags(self.tb.plc.admin,
                                            {"name": "e2e_lender", "tagname": "cpu_share"})
        self.assertEqual(len(tags), 1, tags)
        return tags[0]["slice_tag_id"]


if __name__ == "__main__":
    run_suite(__doc__)
