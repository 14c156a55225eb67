"""What the node end-to-end suites share: a real `plcd --dev` (with its push endpoint) and real
`nodemgr` processes on the sim backend, all on loopback with ports the kernel picks, and the
helpers a user would use to look at them: PLCAPI over HTTPS and the node manager's local API
(root's TCP port). Standard library only.

A node is enrolled as a user does it: AddNode at PLC, GenerateNodeConfFile -> plnode.txt ->
nodemgr. Conditions on the node are awaited with a generous deadline (never a time asserted).
"""

import os
import http.client
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import xmlrpc.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client"))
from plcd_dev import make_data_dir  # noqa: E402

# Generous: the machine is shared and slow; a condition that holds arrives long before.
DEADLINE = float(os.environ.get("PL_E2E_DEADLINE", "120"))
# The running testbed's log tails, added to a failed wait's message.
_logs = None


def wait_for(what, probe, deadline=DEADLINE):
    """Calls `probe()` until it returns a true value and returns that value; raises naming
    `what` and the last observation (or error) when `deadline` seconds pass first."""
    end = time.monotonic() + deadline
    last = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = value
        except (OSError, xmlrpc.client.Error) as e:
            last = "%s: %s" % (type(e).__name__, e)
        if time.monotonic() > end:
            raise AssertionError("gave up waiting for %s after %.0f s; last: %r%s"
                                 % (what, deadline, last, "\n" + _logs() if _logs else ""))
        time.sleep(0.1)


class FreshProxy:
    """An xmlrpc.client.ServerProxy per call: the daemons close idle keep-alive connections,
    which a long-lived proxy would only learn of on its next call (as an error)."""

    def __init__(self, factory):
        self.factory = factory

    def __getattr__(self, name):
        def call(*args):
            proxy = self.factory()
            try:
                return getattr(proxy, name)(*args)
            finally:
                proxy("close")()
        return call


class Output:
    """Drains a child's stdout into a log file and remembers the lines, so a test can wait
    for a line without blocking on a full pipe."""

    def __init__(self, stream, log_path):
        self.lines = []
        self.cond = threading.Condition()
        self.log = open(log_path, "a")
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        for line in stream:
            self.log.write(line)
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output
            self.cond.notify_all()

    def mark(self):
        """Returns how many lines have been read so far, for `wait_line(start=...)`."""
        with self.cond:
            return len(self.lines)

    def wait_line(self, regex, deadline=180, start=0):
        """Returns the first match of `regex` in the output from line `start` on; raises if
        the output ends or the deadline passes first."""
        pattern = re.compile(regex)
        end = time.monotonic() + deadline
        seen = start
        with self.cond:
            while True:
                while seen < len(self.lines):
                    line = self.lines[seen]
                    seen += 1
                    if line is None:
                        raise RuntimeError("the process ended before printing /%s/:\n%s"
                                           % (regex, "".join(x for x in self.lines if x)))
                    m = pattern.search(line)
                    if m:
                        return m
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError("no /%s/ within %d s:\n%s"
                                       % (regex, deadline, "".join(self.lines)))
                self.cond.wait(left)

    def close(self):
        """Waits for the end of the output (the process has ended) and closes the files."""
        self.thread.join(timeout=60)
        self.log.close()

    def text(self):
        with self.cond:
            return "".join(x for x in self.lines if x)


def stop_process(proc, grace=60):
    """SIGTERM, then SIGKILL after `grace` seconds; returns the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class _Daemon:
    """A process the testbed starts with its output (stdout and stderr) read by an Output into a
    log file. `stop()` is SIGTERM (SIGKILL after a grace period) and returns the exit status."""

    proc = None
    starts = 0

    def _spawn(self, cmd, log):
        self.starts += 1
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.out = Output(self.proc.stdout, log)

    def _forget(self):
        self.out.close()
        self.proc.stdout.close()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return None
        status = stop_process(self.proc)
        self._forget()
        return status


class Plc(_Daemon):
    """`plcd --dev` on a data directory, HTTPS and the push endpoint on loopback. `start()`
    again after `stop()` reuses the data directory and the ports it had (the node managers
    were configured with them), as an operator restarting PLC would."""

    def __init__(self, plcd, tmp):
        self.plcd, self.tmp = plcd, tmp
        self.data = os.path.join(tmp, "data")
        self.port = self.push_port = 0
        self.password = None

    def start(self):
        self._spawn([self.plcd, "--dev", "--data-dir", self.data, "--port", str(self.port),
                     "--push-port", str(self.push_port)], os.path.join(self.tmp, "plcd.log"))
        m = self.out.wait_line(r"push endpoint (\S+):(\d+)")
        self.push = "%s:%s" % (m.group(1), m.group(2))
        self.push_port = int(m.group(2))
        m = self.out.wait_line(r"listening on (\S+)")
        self.url = m.group(1)
        self.port = int(re.search(r":(\d+)/", self.url).group(1))
        if self.password is None:
            m = re.search(r"password: (\S+)", self.out.text())
            if not m:
                raise RuntimeError("plcd printed no admin password:\n" + self.out.text())
            self.password = m.group(1)
        self.cafile = os.path.join(self.data, "tls", "plc.crt")
        self.context = ssl.create_default_context(cafile=self.cafile)
        self.admin = {"AuthMethod": "password", "Username": "admin@localhost",
                      "AuthString": self.password}
        self.api = FreshProxy(lambda: xmlrpc.client.ServerProxy(self.url, context=self.context,
                                                                allow_none=True))
        return self

    def calls(self, method):
        """How many calls of `method` plcd has answered, by its /metrics (all fault codes)."""
        base = self.url.split("/PLCAPI")[0]
        with urllib.request.urlopen(base + "/metrics", context=self.context, timeout=30) as r:
            text = r.read().decode()
        total = 0
        for m in re.finditer(r'^plc_requests_total\{([^}]*)\} (\S+)$', text, re.M):
            if 'method="%s"' % method in m.group(1):
                total += int(float(m.group(2)))
        return total

    def ticket_key(self):
        """PLC's public ticket key, where plcd --dev keeps it (also served at /ticket-key.pem)."""
        return os.path.join(self.data, "keys", "ticket.pub")


class NodeManager(_Daemon):
    """One `nodemgr` on the sim backend for an enrolled node: plnode.txt from
    GenerateNodeConfFile, a TOML file as an operator would write it, its own state directory.
    `kill()` is kill -9; `start()` again keeps the state directory."""

    def __init__(self, nodemgr, plc, directory, plnode_text, poll_interval, push, plc_url=True,
                 extra_toml=""):
        self.nodemgr, self.plc, self.dir = nodemgr, plc, directory
        os.makedirs(directory, exist_ok=True)
        self.plnode = os.path.join(directory, "plnode.txt")
        with open(self.plnode, "w") as f:
            f.write(plnode_text)
        self.node_id = int(plnode_value(plnode_text, "NODE_ID"))
        self.state = os.path.join(directory, "state")
        self.run_dir = os.path.join(directory, "api")
        self.config = os.path.join(directory, "nodemgr.toml")
        lines = []
        if plc_url:  # without it, nothing but the push link reaches PLC
            lines += ["[plc]", 'url = "%s"' % plc.url, 'cafile = "%s"' % plc.cafile]
        lines += [
            "[node]",
            'config = "%s"' % self.plnode,
            'backend = "sim"',
            'state_dir = "%s"' % self.state,
            "[poll]",
            "interval_s = %d" % poll_interval,
            "jitter_s = %d" % (1 if poll_interval > 0 else 0),
            "[api]",
            "port = 0",
            'run_dir = "%s"' % self.run_dir,
            'ticket_key = "%s"' % plc.ticket_key(),
        ]
        if push:
            lines += ["[push]", 'address = "%s"' % plc.push]
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_toml)

    def start(self):
        self._spawn([self.nodemgr, "--config", self.config], os.path.join(self.dir, "nodemgr.log"))
        m = self.out.wait_line(r"local API on 127\.0\.0\.1:(\d+)")
        self.api_port = int(m.group(1))
        self.out.wait_line(r"nodemgr: node %d " % self.node_id)
        url = "http://127.0.0.1:%d/" % self.api_port
        self.api = FreshProxy(lambda: xmlrpc.client.ServerProxy(url, allow_none=True))
        return self

    def kill(self):
        """kill -9: no clean-up, no last write."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._forget()

    def log(self):
        path = os.path.join(self.dir, "nodemgr.log")
        with open(path) as f:
            return f.read()

    # -- what the node holds, through the local API as root ------------------------------

    def slivers(self):
        """The names of the slivers the node manager holds records for (GetSSHKeys lists them
        all, to anyone)."""
        return set(self.api.GetSSHKeys().keys())

    def rspec(self, name):
        """PLC's rspec of `name` on the node, or None when the node has no such sliver."""
        try:
            return self.api.GetRSpec(name)
        except xmlrpc.client.Fault as f:
            if f.faultCode == 102:
                return None
            raise

    def effective(self, name):
        return self.api.GetEffectiveRSpec(name)

    def as_sliver(self, name):
        """The local API as a process inside sliver `name` reaches it: the unix socket
        nodemgr keeps for that sliver (`<run_dir>/<name>/nm.sock`)."""
        path = os.path.join(self.run_dir, name, "nm.sock")
        return FreshProxy(lambda: xmlrpc.client.ServerProxy(
            "http://localhost/", transport=_UnixTransport(path), allow_none=True))

    def phase(self, name):
        """The sliver's state as its own record says (GetRecord from inside it): `running`,
        `stopped`, ...; None while the node has no socket for it."""
        path = os.path.join(self.run_dir, name, "nm.sock")
        if not os.path.exists(path):
            return None
        return self.as_sliver(name).GetRecord().get("state")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(30)
            s.connect(self.unix_path)
        except OSError:
            s.close()
            raise
        self.sock = s


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.unix_path = path

    def make_connection(self, host):
        # Kept where Transport.close() looks for it.
        self._connection = host, _UnixConnection(self.unix_path)
        return self._connection[1]


def plnode_value(text, name):
    """Reads NAME="value" from plnode.txt as NodeManager does."""
    for line in text.splitlines():
        if line.startswith(name + "="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def fault_of(call):
    """Returns the xmlrpc Fault `call()` raises; fails when it raises none."""
    try:
        call()
    except xmlrpc.client.Fault as f:
        return f
    raise AssertionError("expected an XML-RPC fault")


class Testbed:
    """A site with a PI and a user at a fresh plcd, and node managers enrolled on demand."""

    def __init__(self, plcd, nodemgr, prefix):
        global _logs
        self.tmp, _ = make_data_dir(prefix)
        self.nodemgr = nodemgr
        _logs = self.logs
        self.plc = Plc(plcd, self.tmp).start()
        self.nodes = []
        api, admin = self.plc.api, self.plc.admin
        self.site = api.AddSite(admin, {"name": "E2E University", "abbreviated_name": "E2E",
                                        "login_base": "e2e", "max_slices": 50})
        self.auth = {"admin": admin}
        for actor, role in (("pi", "pi"), ("user", "user")):
            email = "%s@e2e.example.org" % actor
            pid = api.AddPerson(admin, {"first_name": actor, "last_name": "E2E", "email": email,
                                        "password": "secret-" + actor})
            api.AddRoleToPerson(admin, role, pid)
            api.AddPersonToSite(admin, pid, self.site)
            api.UpdatePerson(admin, pid, {"enabled": True})
            self.auth[actor] = {"AuthMethod": "password", "Username": email,
                                "AuthString": "secret-" + actor}

    def enrol(self, hostname, poll_interval, push, plc_url=True, extra_toml=""):
        """AddNode + GenerateNodeConfFile at PLC, then a nodemgr with that plnode.txt (and
        PLC's URL in its configuration unless `plc_url` is false; `extra_toml`, whole TOML
        sections, is appended to its configuration file)."""
        api, admin = self.plc.api, self.plc.admin
        node_id = api.AddNode(admin, self.site, {"hostname": hostname})
        # GenerateNodeConfFile describes the primary interface: a static one in TEST-NET-1.
        host = 10 + len(self.nodes)
        api.AddInterface(admin, node_id, {
            "method": "static", "type": "ipv4", "ip": "192.0.2.%d" % host,
            "mac": "02:00:00:00:00:%02x" % host, "gateway": "192.0.2.1",
            "network": "192.0.2.0", "broadcast": "192.0.2.255", "netmask": "255.255.255.0",
            "dns1": "192.0.2.53"})
        plnode = api.GenerateNodeConfFile(admin, node_id)
        nm = NodeManager(self.nodemgr, self.plc, os.path.join(self.tmp, hostname), plnode,
                         poll_interval, push, plc_url, extra_toml)
        assert nm.node_id == node_id, (nm.node_id, node_id)
        self.nodes.append(nm)
        return nm.start()

    def close(self):
        for nm in self.nodes:
            nm.stop()
        self.plc.stop()
        if os.environ.get("PL_E2E_KEEP"):
            print("kept", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def logs(self):
        """The tail of every daemon's log, for a failure message."""
        out = ["--- plcd:\n" + self.plc.out.text()[-3000:]]
        for nm in self.nodes:
            out.append("--- nodemgr %s:\n%s" % (nm.dir, nm.log()[-3000:]))
        return "\n".join(out)


class TestbedCase(unittest.TestCase):
    """A suite's test case on its own Testbed: setUpClass starts one (its temporary directory
    named with `prefix`) as `cls.tb`, then runs the suite's `prepare()`; tearDownClass closes
    it. `plcd` and `nodemgr` are the binaries `run_suite` was given."""

    prefix = "pl-e2e-"
    plcd = nodemgr = None

    @classmethod
    def prepare(cls):
        """What the suite sets up on `cls.tb` before its tests (nodes, slices)."""

    @classmethod
    def setUpClass(cls):
        cls.tb = Testbed(cls.plcd, cls.nodemgr, cls.prefix)
        try:
            cls.prepare()
        except BaseException:
            cls.tb.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.tb.close()


def run_suite(doc):
    """A suite's entry point: `SUITE.py PATH_TO_PLCD PATH_TO_NODEMGR` runs the test cases of the
    suite's module (`__main__`); without both paths it exits with the suite's `doc`."""
    if len(sys.argv) < 3:
        sys.exit(doc)
    TestbedCase.plcd, TestbedCase.nodemgr = sys.argv[1], sys.argv[2]
    unittest.main(module="__main__", argv=sys.argv[:1], verbosity=2)
