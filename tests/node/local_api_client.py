#!/usr/bin/env python3
"""Drives the node manager's local API with Python's stock xmlrpc.client.

Usage: local_api_client.py TCP_PORT SOCKET_OF_pl_owner TICKET

Run by node.local_api against a fake node manager holding pl_owner (which
delegates to pl_broker), pl_deleg, pl_broker and pl_other. Exits non-zero
(with the failed assertion) on any surprise.
"""
import http.client
import socket
import sys
import xmlrpc.client


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=20)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(self.path)
        self.sock = s


class UnixTransport(xmlrpc.client.Transport):
    """What a process inside a sliver uses: the socket bind-mounted into it."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        return UnixConnection(self.path)


def fault(call, code):
    try:
        call()
    except xmlrpc.client.Fault as f:
        assert f.faultCode == code, (f.faultCode, f.faultString)
        return f.faultString
    raise AssertionError("expected fault %d" % code)


def main():
    port, path, ticket = int(sys.argv[1]), sys.argv[2], sys.argv[3]

    root = xmlrpc.client.ServerProxy("http://127.0.0.1:%d/" % port, allow_none=True)
    assert "GetRecord" in root.Help()
    keys = root.GetSSHKeys()
    assert keys["pl_owner"].startswith("ssh-ed25519"), keys
    assert root.Start("pl_owner") == 1
    assert root.Create("pl_deleg") == 1
    fault(lambda: root.Create("pl_owner"), 104)
    fault(lambda: root.GetRecord(), 102)
    fault(lambda: root.NoSuchMethod(), 100)
    fault(lambda: root.Start(), 101)
    assert root.Ticket(ticket) == 1
    assert "replayed" in fault(lambda: root.Ticket(ticket), 102)

    owner = xmlrpc.client.ServerProxy("http://localhost/", transport=UnixTransport(path),
                                      allow_none=True)
    rec = owner.GetRecord()
    assert rec["name"] == "pl_owner", rec
    assert rec["delegations"] == ["pl_broker"], rec
    assert owner.GetRSpec("pl_owner")["net_max_rate"] == 5000000000
    assert owner.SetLoans("pl_owner", [["pl_broker", "cpu_share", 4]]) == 1
    assert owner.GetLoans("pl_owner") == [["pl_broker", "cpu_share", 4]]
    fault(lambda: owner.SetLoans("pl_owner", [["pl_broker", "disk_max", 4]]), 102)
    fault(lambda: owner.Start("pl_other"), 108)
    fault(lambda: owner.Start("pl_nowhere"), 102)
    print("local_api_client: all checks passed")


if __name__ == "__main__":
    main()
