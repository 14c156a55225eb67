#!/usr/bin/env python3
"""Node authentication as the original node software does it, against `plcd --dev`.

An admin creates a site, a node with a static primary interface and a PI and
tech, and downloads the node's plnode.txt (GenerateNodeConfFile). A node
client then reads NODE_ID and NODE_KEY from that file as NodeManager does and
signs its calls the way NodeManager's plcapi.py and BootManager's BootAPI.py
compute the hmac (every argument value, struct values but not keys, flattened,
str()'d, sorted, joined inside "[...]", HMAC-SHA1 with the node key), written
here from that description with the standard library only. It calls
BootCheckAuthentication, GetNodeFlavour, BootGetNodeDetails, BootUpdateNode,
ReportRunlevel and BootNotifyOwners, gets a node session as BootManager 5.0
does, and checks that a tampered argument, a wrong key and the key replaced
by a new plnode.txt are refused.

Usage: node_boot.py PATH_TO_PLCD
"""

import glob
import hashlib
import hmac
import os
import sys
import unittest
import xmlrpc.client

from plcd_dev import make_data_dir, start_plcd, stop_plcd

PLCD = None



def plnode_value(text, name):
    """Reads NAME="value" from plnode.txt the way NodeManager's update_session does."""
    for line in text.splitlines():
        if line.startswith(name):
            return line.split("=")[1].strip('"')
    return None


def node_values(args):
    """The values a node signs: lists flattened, dicts by their values only."""
    out = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            out += node_values(arg)
        elif isinstance(arg, dict):
            out += node_values(list(arg.values()))
        else:
            out.append(str(arg))
    return out


def node_hmac(key, args):
    values = sorted(node_values(args))
    msg = "[" + "".join(values) + "]"
    return hmac.new(key.encode("utf-8"), msg.encode("utf-8"), hashlib.sha1).hexdigest()


class NodeClient:
    """Adds the hmac auth struct to every call, like NodeManager's PLCAPI class."""

    def __init__(self, proxy, node_id, key, method="hmac"):
        self.proxy, self.node_id, self.key, self.method = proxy, node_id, key, method

    def auth(self, args):
        return {"AuthMethod": self.method, "node_id": self.node_id,
                "value": node_hmac(self.key, args)}

    def __getattr__(self, name):
        def call(*args):
            return getattr(self.proxy, name)(self.auth(args), *args)
        return call


class NodeBoot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.data = make_data_dir("pl-node-boot-")
        cls.proc, cls.url, admin_pw, cls.context = start_plcd(PLCD, cls.data)
        cls.admin = {"AuthMethod": "password", "Username": "admin@localhost",
                     "AuthString": admin_pw}
        api = cls.api = cls.proxy()
        api.AddSite(cls.admin, {"name": "Boot Site", "abbreviated_name": "Boot",
                                "login_base": "bootsite"})
        for actor, role in [("pi", "pi"), ("tech", "tech")]:
            email = actor + "@bootsite.org"
            pid = api.AddPerson(cls.admin, {"first_name": actor, "last_name": "Boot",
                                            "email": email})
            api.AddPersonToSite(cls.admin, pid, "bootsite")
            api.AddRoleToPerson(cls.admin, role, pid)
            api.UpdatePerson(cls.admin, pid, {"enabled": True})
        cls.hostname = "node1.bootsite.org"
        cls.node_id = api.AddNode(cls.admin, "bootsite", {"hostname": cls.hostname})
        api.AddInterface(cls.admin, cls.node_id, {
            "method": "static", "type": "ipv4", "ip": "192.0.2.10", "mac": "02:00:00:00:00:0A",
            "gateway": "192.0.2.1", "network": "192.0.2.0", "broadcast": "192.0.2.255",
            "netmask": "255.255.255.0", "dns1": "192.0.2.53"})
        cls.interface_id = api.GetInterfaces(cls.admin, {"node_id": cls.node_id})[0]["interface_id"]
        cls.plnode = api.GenerateNodeConfFile(cls.admin, cls.node_id)

    @classmethod
    def tearDownClass(cls):
        cls.api("close")()
        stop_plcd(cls.proc, cls.tmp)

    @classmethod
    def proxy(cls):
        return xmlrpc.client.ServerProxy(cls.url, context=cls.context, allow_none=True)

    def node(self, method="hmac"):
        node_id = int(plnode_value(self.plnode, "NODE_ID"))
        return NodeClient(self.api, node_id, plnode_value(self.plnode, "NODE_KEY"), method)

    def assertFault(self, code, fn, *args):
        with self.assertRaises(xmlrpc.client.Fault) as ctx:
            fn(*args)
        self.assertEqual(ctx.exception.faultCode, code, ctx.exception.faultString)
        return ctx.exception

    def test_1_plnode_txt(self):
        self.assertEqual(plnode_value(self.plnode, "NODE_ID"), str(self.node_id))
        key = plnode_value(self.plnode, "NODE_KEY")
        self.assertEqual(len(key), 43)
        self.assertNotIn("=", key)
        for line in ['IP_METHOD="static"', 'IP_ADDRESS="192.0.2.10"', 'HOST_NAME="node1"',
                     'DOMAIN_NAME="bootsite.org"', 'NET_DEVICE="02:00:00:00:00:0a"']:
            self.assertIn(line + "\n", self.plnode)

    def test_2_check_authentication_and_flavour(self):
        node = self.node()
        self.assertEqual(node.BootCheckAuthentication(), 1)
        self.assertEqual(node.AuthCheck(), 1)
        self.assertEqual(self.node("hmac_dummybox").AuthCheck(), 1)
        flavour = node.GetNodeFlavour(self.node_id)
        self.assertEqual(flavour["nodefamily"], "planetlab-f18-x86_64")
        self.assertEqual(flavour["virt"], "lxc")
        self.assertEqual(flavour["extensions"], [])
        self.assertIs(flavour["plain"], False)
        # By hostname too; the defaults are now the node's tags.
        self.assertEqual(node.GetNodeFlavour(self.hostname)["arch"], "x86_64")
        tags = {t["tagname"]: t["value"]
                for t in self.api.GetNodeTags(self.admin, {"node_id": self.node_id})}
        self.assertEqual(tags.get("fcdistro"), "f18")

    def test_3_signed_structs_unicode_and_floats(self):
        node = self.node()
        # A struct with a nested struct: its values, never its keys, are signed.
        self.assertEqual(node.BootUpdateNode({
            "boot_state": "boot",
            "ssh_rsa_key": "ssh-rsa AAAAB3NzaC1yc2E root@node1 \u00e9t\u00e9",
            "primary_network": {"interface_id": self.interface_id, "dns2": "192.0.2.54"}}), 1)
        record = self.api.GetNodes(self.admin, self.node_id, ["boot_state", "ssh_rsa_key"])[0]
        self.assertEqual(record["boot_state"], "boot")
        self.assertTrue(record["ssh_rsa_key"].endswith("\u00e9t\u00e9"))
        iface = self.api.GetInterfaces(self.admin, self.interface_id)[0]
        self.assertEqual(iface["dns2"], "192.0.2.54")
        # A float and a boolean among the signed values (extra keys are ignored).
        self.assertEqual(node.ReportRunlevel({"run_level": "boot", "load": 0.25,
                                              "healthy": True}), 1)
        self.assertEqual(self.api.GetNodes(self.admin, self.node_id, ["run_level"])[0]
                         ["run_level"], "boot")

    def test_4_tampered_and_wrong_key_refused(self):
        node = self.node()
        proxy = self.api
        signed = node.auth(({"run_level": "boot"},))
        self.assertFault(103, proxy.ReportRunlevel, signed, {"run_level": "failboot"})
        wrong = NodeClient(self.api, self.node_id, "not-the-key")
        fault = self.assertFault(103, wrong.AuthCheck)
        self.assertIn("Call could not be authenticated", fault.faultString)
        # PLC mailed the node's PI and tech about the failure.
        mails = []
        for path in glob.glob(os.path.join(self.data, "mail", "*.eml")):
            with open(path, encoding="utf-8") as f:
                mails.append(f.read())
        failed = [m for m in mails if "failed to authenticate" in m]
        self.assertTrue(failed)
        self.assertIn("pi@bootsite.org", failed[-1])
        self.assertIn("tech@bootsite.org", failed[-1])

    def test_5_sessions_as_bootmanager_and_nodemanager(self):
        # BootManager 5.0: hmac over "[]" (node_ip is sent and ignored), GetSession, then
        # AuthCheck with the session.
        key = plnode_value(self.plnode, "NODE_KEY")
        auth = {"AuthMethod": "hmac", "node_id": self.node_id, "node_ip": "192.0.2.10",
                "value": hmac.new(key.encode(), "[]".encode("utf-8"), hashlib.sha1).hexdigest()}
        proxy = self.api
        session = proxy.GetSession(auth)
        session_auth = {"AuthMethod": "session", "session": session}
        self.assertEqual(proxy.AuthCheck(session_auth), 1)
        self.assertEqual(proxy.GetNodeFlavour(session_auth, self.node_id)["arch"], "x86_64")
        # NodeManager's bootauth.py: BootGetNodeDetails (hmac), then GetSession returns it.
        details = self.node().BootGetNodeDetails()
        self.assertEqual(details["hostname"], self.hostname)
        self.assertEqual(details["networks"][0]["ip"], "192.0.2.10")
        nm_session = {"AuthMethod": "session", "session": details["session"]}
        self.assertEqual(proxy.GetSession(nm_session), details["session"])
        # One session per node: BootGetNodeDetails replaced BootManager's.
        self.assertFault(103, proxy.AuthCheck, session_auth)
        self.assertEqual(proxy.BootNotifyOwners(nm_session, "installfinished", 1, 1, 0), 1)

    def test_6_new_plnode_txt_invalidates_the_old_key(self):
        old = self.node()
        self.assertEqual(old.AuthCheck(), 1)
        NodeBoot.plnode = self.api.GenerateNodeConfFile(self.admin, self.hostname)
        self.assertFault(103, old.AuthCheck)
        self.assertEqual(self.node().AuthCheck(), 1)
        # A node may not generate its own file, nor call admin methods.
        self.assertFault(103, self.node().GenerateNodeConfFile, self.node_id)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: node_boot.py PATH_TO_PLCD")
    PLCD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
