#!/usr/bin/env python3
"""nodemgr on the linux backend against a real plcd --dev, as root (issue #6 point 13).

A site, a PI and a user with an ssh key, a node (plnode.txt from GenerateNodeConfFile) and two
plc-instantiated slices lnx_a and lnx_b on it are made through PLCAPI. nodemgr --backend linux
polls GetSlivers every second and builds real slivers (busybox image, namespaces, cgroups under a
parent group named for this run). The cases, in order:

1. each slice becomes a running sliver: its own hostname, sleep as PID 1, in its cgroups; an
   init killed with SIGKILL is started again (the container driver's watchdog);
2. cpu_share set and changed at PLC (slice tag) reaches the kernel knob (cpu.shares on cgroup
   v1, cpu.weight on v2) of the sliver's cgroup;
3. after kill -9 of nodemgr and a restart, the same init processes (pid and start time from
   /proc/PID/stat) and the same cgroup directories (inode) remain; a change made at PLC after
   the restart is applied to them (adopted, not recreated);
4. from inside sliver lnx_a (entered with pl-vsh, i.e. the driver's enter, as the slice account)
   a call to the local API over the unix socket bind-mounted into the sliver: Start(lnx_b) is
   fault 108 until lnx_a is in lnx_b's delegations (slice tag), then Stop and Start(lnx_b) work;
   after a graceful restart of nodemgr (SIGTERM) the same socket path answers again;
5. ssh to a loopback sshd (free port, throwaway host key, configured by `plnode-setup ssh`) as
   the slice account with the member's key lands inside the sliver with the login shell of the
   sliver's /etc/passwd (a command, and an interactive login on a pty); another key is refused
   until PLC adds it to the member (AddPersonKey); pl-vsh refuses a non-slice host account;
6. deleting the slices at PLC removes the slivers: no init, cgroup, mount or host account left.

Everything is cleaned up at the end even on failure (processes, mounts, loop devices, cgroups,
host accounts and group, the data directory). Without root, cgroups or busybox-static it prints
SKIPPED with the reason and passes.

Usage: linux_nodemgr.py NODEMGR PLCD PL_VSH PLNODE_SETUP NM_CALL
"""

import os
import pwd
import grp
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xmlrpc.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client"))
from plcd_dev import make_data_dir, start_plcd, stop_plcd  # noqa: E402

NODEMGR = PLCD = PL_VSH = PLNODE_SETUP = NM_CALL = None
DEADLINE = 300  # seconds to wait for a change to reach the node (a bound, not a measurement)
APPLETS = ["sh", "ash", "cat", "hostname", "sleep", "id", "ls", "echo", "tr", "find", "test",
           "grep", "true"]
# The local API socket inside a sliver (drivers' api_mount + the server's socket name).
SOCKET_CANDIDATES = ["/run/planetlab/api/nm.sock"]


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (cgroups, namespaces, mounts, host accounts)"
    for tool in ("ssh-keygen", "useradd", "setpriv", "losetup"):
        if not shutil.which(tool):
            return "no %s (scripts/bootstrap installs it)" % tool
    if not os.path.exists("/bin/busybox"):
        return "no /bin/busybox (busybox-static) for the sliver image"
    if not any(os.path.exists(p) for p in ("/sys/fs/cgroup/cpu/cpu.shares",
                                           "/sys/fs/cgroup/cgroup.controllers")):
        return "no cpu cgroup controller"
    return None


def wait_for(what, check, deadline=DEADLINE):
    """Returns check()'s first true value; fails naming `what` after `deadline` seconds."""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what + " (last: %r)" % (last,))


def proc_start_time(pid):
    """Field 22 of /proc/PID/stat (start time), or None when gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def read_int(path):
    with open(path) as f:
        return int(f.read())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mounts():
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def cgroup_mounts():
    """(mount point, fstype, options) of every cgroup hierarchy."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fstype, _, opts = right.split()[:3]
            if fstype in ("cgroup", "cgroup2"):
                out.append((left.split()[4], fstype, opts.split(",")))
    return out


def cpu_knob_of(pid):
    """(file, kind) of the cpu knob of the cgroup `pid` is in: v1 cpu.shares or v2 cpu.weight."""
    with open("/proc/%d/cgroup" % pid) as f:
        lines = [line.strip().split(":", 2) for line in f]
    for point, fstype, opts in cgroup_mounts():
        for _, ctrls, path in lines:
            if fstype == "cgroup" and "cpu" in ctrls.split(",") and "cpu" in opts:
                return os.path.join(point + path, "cpu.shares"), "v1"
    for point, fstype, _ in cgroup_mounts():
        for _, ctrls, path in lines:
            if fstype == "cgroup2" and ctrls == "":
                knob = os.path.join(point + path, "cpu.weight")
                if os.path.exists(knob):
                    return knob, "v2"
    raise AssertionError("no cpu cgroup for pid %d: %r" % (pid, lines))


def expected_knob(share, kind):
    """cpu_share -> the knob's value (drivers/README.md: shares x 32; v2: runc's conversion)."""
    shares = share * 32
    if kind == "v1":
        return shares
    if shares <= 2:
        return 1
    if shares >= 262144:
        return 10000
    import math
    log = math.log2(shares)
    return math.ceil(10 ** ((log * log + 125 * log) / 612.0 - 7.0 / 34.0))


class LinuxNodemgr(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.run_id = secrets.token_hex(3)
        cls.parent = "pltest" + cls.run_id
        cls.group = "plsl" + cls.run_id
        cls.nodemgr = cls.sshd = cls.plcd = None
        cls.accounts = []
        # A root-owned 0755 tree (sshd and pl-vsh refuse world-writable parents such as /tmp).
        cls.base = tempfile.mkdtemp(prefix="pl-linux-nm-", dir="/var/lib")
        os.chmod(cls.base, 0o755)
        try:
            cls.set_up()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def set_up(cls):
        base = cls.base
        cls.state = os.path.join(base, "state")
        cls.run_dir = os.path.join(base, "run")
        cls.sbin = os.path.join(base, "sbin")
        cls.sshd_dir = os.path.join(base, "sshd")
        # The reference image: busybox and the local API client.
        img = os.path.join(base, "images", "default")
        os.makedirs(os.path.join(img, "bin"))
        os.makedirs(os.path.join(img, "etc"))
        shutil.copy("/bin/busybox", os.path.join(img, "bin", "busybox"))
        for applet in APPLETS:
            os.symlink("busybox", os.path.join(img, "bin", applet))
        shutil.copy(NM_CALL, os.path.join(img, "bin", "nm-call"))
        with open(os.path.join(img, "etc", "passwd"), "w") as f:
            f.write("root:x:0:0:root:/root:/bin/sh\n")
        # The member's key and a stranger's.
        cls.key = os.path.join(base, "user_key")
        cls.other_key = os.path.join(base, "other_key")
        for k in (cls.key, cls.other_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", k],
                           check=True)
        with open(cls.key + ".pub") as f:
            user_pub = f.read().strip()

        # PLC: site, PI, user with the key, node, two slices with the user as member.
        cls.plc_tmp, data = make_data_dir("pl-linux-nm-plc-")
        cls.plcd, cls.url, admin_pw, cls.context = start_plcd(PLCD, data)
        cls.admin = {"AuthMethod": "password", "Username": "admin@localhost",
                     "AuthString": admin_pw}
        api = cls.api = xmlrpc.client.ServerProxy(cls.url, context=cls.context, allow_none=True)
        api.AddSite(cls.admin, {"name": "Linux U", "abbreviated_name": "LU", "login_base": "lnx",
                                "max_slices": 5})
        for actor, role in [("pi", "pi"), ("user", "user")]:
            email = actor + "@lnx.org"
            pid = api.AddPerson(cls.admin, {"first_name": actor, "last_name": "Lnx",
                                            "email": email, "password": actor + "-secret"})
            api.AddPersonToSite(cls.admin, pid, "lnx")
            api.AddRoleToPerson(cls.admin, role, pid)
            api.UpdatePerson(cls.admin, pid, {"enabled": True})
        api.AddPersonKey(cls.admin, "user@lnx.org", {"key_type": "ssh", "key": user_pub})
        cls.node_id = api.AddNode(cls.admin, "lnx", {"hostname": "node1.lnx.org"})
        api.AddInterface(cls.admin, cls.node_id, {
            "method": "static", "type": "ipv4", "ip": "192.0.2.30", "mac": "02:00:00:00:00:1e",
            "gateway": "192.0.2.1", "network": "192.0.2.0", "broadcast": "192.0.2.255",
            "netmask": "255.255.255.0", "dns1": "192.0.2.53"})
        cls.slice_ids = {}
        for name in ("lnx_a", "lnx_b"):
            sid = api.AddSlice(cls.admin, {"name": name, "url": "https://lnx.org/" + name,
                                           "description": "linux backend test"})
            cls.slice_ids[name] = sid
            api.AddPersonToSlice(cls.admin, "user@lnx.org", sid)
            api.AddSliceToNodes(cls.admin, sid, [cls.node_id])
            cls.accounts.append(name)
        api.AddSliceTag(cls.admin, cls.slice_ids["lnx_a"], "cpu_share", "3")
        cls.plnode = os.path.join(base, "plnode.txt")
        with open(cls.plnode, "w") as f:
            f.write(api.GenerateNodeConfFile(cls.admin, cls.node_id))

        # Logins: pl-vsh, its conf and the sshd drop-in, as on a node.
        setup = subprocess.run([PLNODE_SETUP, "ssh", "--state-dir", cls.state, "--bin-dir",
                                cls.sbin, "--sshd-dir", cls.sshd_dir, "--group", cls.group,
                                "--vsh", PL_VSH], capture_output=True, text=True)
        if setup.returncode != 0:
            raise AssertionError("plnode-setup ssh failed: " + setup.stdout + setup.stderr)

        cls.config = os.path.join(base, "nodemgr.toml")
        with open(cls.config, "w") as f:
            f.write(f"""[plc]
url = "{cls.url}"
cafile = "{os.path.join(data, 'tls', 'plc.crt')}"
[node]
config = "{cls.plnode}"
backend = "linux"
state_dir = "{cls.state}"
[poll]
interval_s = 1
jitter_s = 0
[api]
port = 0
run_dir = "{cls.run_dir}"
[drivers]
cgroup_parent = "{cls.parent}"
images_dir = "{os.path.join(base, 'images')}"
[login]
vsh = "{os.path.join(cls.sbin, 'pl-vsh')}"
group = "{cls.group}"
[conf_files]
enabled = false
""")
        cls.start_nodemgr()

    # --- nodemgr ---------------------------------------------------------------------------

    @classmethod
    def start_nodemgr(cls):
        # Output to a file: the slivers' inits inherit nodemgr's descriptors and outlive it.
        cls.log_path = os.path.join(cls.base, "nodemgr.%d.log" % time.monotonic_ns())
        log = open(cls.log_path, "w")
        cls.nodemgr = subprocess.Popen([NODEMGR, "--config", cls.config], stdout=log,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        wait_for("nodemgr to start (log %s)" % cls.log_path,
                 lambda: cls.nodemgr.poll() is not None or "nodemgr: node " in cls.log())
        if cls.nodemgr.poll() is not None:
            raise AssertionError("nodemgr exited %d:\n%s" % (cls.nodemgr.returncode, cls.log()))

    @classmethod
    def log(cls):
        with open(cls.log_path) as f:
            return f.read()

    def record(self, name):
        """The container driver's record of `name` (init pid, start time, uid) or {}."""
        path = os.path.join(self.state, "drivers", "containers", "records", name)
        try:
            with open(path) as f:
                return {k: int(v) for k, v in (line.strip().split("=", 1)
                                                for line in f if "=" in line)}
        except OSError:
            return {}

    def running_init(self, name):
        """The pid of `name`'s init when it runs, per the record and /proc."""
        rec = self.record(name)
        if "pid" in rec and proc_start_time(rec["pid"]) == rec.get("start"):
            return rec["pid"]
        return None

    def vsh(self, name, command):
        """Runs `command` in sliver `name` as its slice account (pl-vsh, the driver's enter)."""
        r = subprocess.run([os.path.join(self.sbin, "pl-vsh"), "--sliver", name, "-c", command],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def plc(self):
        """A new PLCAPI proxy (plcd closes idle keep-alive connections during long waits)."""
        return xmlrpc.client.ServerProxy(self.url, context=self.context, allow_none=True)

    def tag(self, slice_name, tagname, value):
        with self.plc() as api:
            tags = api.GetSliceTags(self.admin, {"slice_id": self.slice_ids[slice_name],
                                                 "tagname": tagname})
            if tags:
                api.UpdateSliceTag(self.admin, tags[0]["slice_tag_id"], value)
            else:
                api.AddSliceTag(self.admin, self.slice_ids[slice_name], tagname, value)

    # --- the cases -------------------------------------------------------------------------

    def test_1_slices_become_running_slivers(self):
        for name in ("lnx_a", "lnx_b"):
            pid = wait_for("sliver %s to run\n" % name, lambda: self.running_init(name))
            code, out = self.vsh(name, "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; id -u")
            self.assertEqual(code, 0, out)
            lines = out.split("\n")
            self.assertEqual(lines[0], name, out)
            self.assertTrue(lines[1].startswith("sleep "), out)
            self.assertEqual(int(lines[2]), 10000 + self.slice_ids[name], out)
            with open("/proc/%d/cgroup" % pid) as f:
                self.assertIn("/%s/%s\n" % (self.parent, name), f.read())
        # An init that dies (killed, OOM) is started again by nodemgr's container driver.
        old = self.running_init("lnx_b")
        os.kill(old, signal.SIGKILL)
        new = wait_for("lnx_b's init to be restarted",
                       lambda: (lambda p: p if p and p != old else None)(self.running_init("lnx_b")))
        code, out = self.vsh("lnx_b", "hostname")
        self.assertEqual((code, out.strip()), (0, "lnx_b"))
        self.assertNotEqual(new, old)

    def test_2_cpu_share_at_plc_reaches_the_knob(self):
        pid = wait_for("lnx_a to run", lambda: self.running_init("lnx_a"))
        knob, kind = cpu_knob_of(pid)
        self.assertIn("/%s/lnx_a/" % self.parent, knob)

        def knob_is(v):
            return lambda: read_int(knob) == v or None
        wait_for("%s = %d" % (knob, expected_knob(3, kind)), knob_is(expected_knob(3, kind)))
        self.tag("lnx_a", "cpu_share", "7")
        wait_for("%s = %d" % (knob, expected_knob(7, kind)), knob_is(expected_knob(7, kind)))

    def test_3_kill9_and_restart_adopts_the_slivers(self):
        before = {}
        for name in ("lnx_a", "lnx_b"):
            pid = wait_for(name + " to run", lambda: self.running_init(name))
            knob, kind = cpu_knob_of(pid)
            before[name] = (pid, proc_start_time(pid), os.stat(os.path.dirname(knob)).st_ino)
        os.kill(self.nodemgr.pid, signal.SIGKILL)
        self.nodemgr.wait()
        for name, (pid, start, _) in before.items():
            self.assertEqual(proc_start_time(pid), start, name + "'s init died with nodemgr")
        type(self).start_nodemgr()
        # A change made after the restart proves the new nodemgr has reconciled.
        self.tag("lnx_b", "cpu_share", "5")
        knob_b, kind = cpu_knob_of(before["lnx_b"][0])
        wait_for("lnx_b's knob after the restart",
                 lambda: read_int(knob_b) == expected_knob(5, kind) or None)
        for name, (pid, start, ino) in before.items():
            self.assertEqual(self.running_init(name), pid, name)
            self.assertEqual(proc_start_time(pid), start, name)
            knob, _ = cpu_knob_of(pid)
            self.assertEqual(os.stat(os.path.dirname(knob)).st_ino, ino,
                             name + "'s cgroup was recreated")

    def sliver_socket(self, name):
        for path in SOCKET_CANDIDATES:
            code, _ = self.vsh(name, "test -S " + path)
            if code == 0:
                return path
        return None

    def test_4_delegation_gates_start_from_inside_a_sliver(self):
        wait_for("lnx_a and lnx_b to run",
                 lambda: self.running_init("lnx_a") and self.running_init("lnx_b"))
        sock = wait_for("the local API socket inside lnx_a", lambda: self.sliver_socket("lnx_a"))

        def call(method, arg):
            code, out = self.vsh("lnx_a", "nm-call %s %s %s" % (sock, method, arg))
            fault = re.search(r"<name>faultCode</name>\s*<value>\s*<(?:int|i4)>(\d+)<", out)
            return int(fault.group(1)) if fault else None, code, out

        fault, _, out = call("Start", "lnx_b")
        self.assertEqual(fault, 108, out)
        fault, _, out = call("GetRSpec", "lnx_b")
        self.assertEqual(fault, 108, out)
        # Its own sliver is always allowed.
        fault, code, out = call("GetRSpec", "lnx_a")
        self.assertEqual((fault, code), (None, 0), out)

        self.tag("lnx_b", "delegations", "lnx_a")
        wait_for("lnx_a in lnx_b's delegations at the node", lambda: call("GetRSpec", "lnx_b")[0]
                 is None)
        fault, code, out = call("Stop", "lnx_b")
        self.assertEqual((fault, code), (None, 0), out)
        wait_for("lnx_b to stop", lambda: self.running_init("lnx_b") is None)
        code, out = self.vsh("lnx_b", "true")  # no login into a stopped sliver
        self.assertEqual(code, 1, out)
        self.assertIn("is not running", out)
        fault, code, out = call("Start", "lnx_b")
        self.assertEqual((fault, code), (None, 0), out)
        wait_for("lnx_b to run again", lambda: self.running_init("lnx_b"))
        # A graceful restart of nodemgr (SIGTERM): the running sliver still reaches the new
        # nodemgr through its socket (the bind-mounted directory must survive).
        init_a = self.running_init("lnx_a")
        self.nodemgr.terminate()
        self.assertEqual(self.nodemgr.wait(timeout=60), 0, self.log())
        type(self).start_nodemgr()
        fault, code, out = wait_for("the socket in lnx_a to answer after a restart",
                                    lambda: (lambda r: r if r[1] == 0 else None)(
                                        call("GetRSpec", "lnx_b")))
        self.assertIsNone(fault, out)
        self.assertEqual(self.running_init("lnx_a"), init_a)

    def test_5_ssh_as_the_slice_lands_in_the_sliver(self):
        if not os.path.exists("/usr/sbin/sshd"):
            self.skipTest("SKIPPED: no /usr/sbin/sshd (openssh-server)")
        wait_for("lnx_a to run", lambda: self.running_init("lnx_a"))
        account = wait_for("host account lnx_a", lambda: self.account("lnx_a"))
        self.assertEqual(account.pw_shell, os.path.join(self.sbin, "pl-vsh"))
        self.assertEqual(account.pw_uid, 10000 + self.slice_ids["lnx_a"])
        type(self).start_sshd()

        def ssh(key, command, user="lnx_a"):
            return subprocess.run(
                ["ssh", "-F", "/dev/null", "-i", key, "-p", str(self.ssh_port), "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", user + "@127.0.0.1", command],
                capture_output=True, text=True, timeout=60)

        r = ssh(self.key, "hostname; cat /proc/1/cmdline | tr '\\0' ' '; echo; id -u; echo $0")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.sshd_log())
        lines = r.stdout.split("\n")
        self.assertEqual(lines[0], "lnx_a", r.stdout)
        self.assertTrue(lines[1].startswith("sleep "), r.stdout)
        self.assertEqual(int(lines[2]), 10000 + self.slice_ids["lnx_a"], r.stdout)
        self.assertEqual(lines[3], "/bin/sh", r.stdout)
        # The login shell is the sliver's own /etc/passwd's: change it there.
        passwd = os.path.join(self.state, "drivers", "containers", "lnx_a", "root", "etc",
                              "passwd")
        with open(passwd) as f:
            text = f.read()
        with open(passwd, "w") as f:
            f.write(re.sub(r"^(lnx_a:.*):/bin/sh$", r"\1:/bin/ash", text, flags=re.M))
        r = ssh(self.key, "echo $0")
        self.assertEqual(r.stdout.strip(), "/bin/ash", r.stdout + r.stderr)
        # An interactive login (a pty, no command): the login shell runs in the sliver.
        r = subprocess.run(
            ["ssh", "-F", "/dev/null", "-tt", "-i", self.key, "-p", str(self.ssh_port),
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
             "-o", "LogLevel=ERROR", "lnx_a@127.0.0.1"],
            input="echo IN-$(hostname)-$(id -u)\nexit\n", capture_output=True, text=True,
            timeout=60)
        self.assertIn("IN-lnx_a-%d" % (10000 + self.slice_ids["lnx_a"]), r.stdout,
                      r.stdout + r.stderr + self.sshd_log())
        # Another key is refused.
        r = ssh(self.other_key, "hostname")
        self.assertEqual(r.returncode, 255, r.stdout + r.stderr)
        self.assertNotIn("lnx_a", r.stdout)
        # A key added to the member at PLC reaches the node with the next GetSlivers.
        with open(self.other_key + ".pub") as f:
            other_pub = f.read().strip()
        with self.plc() as api:
            api.AddPersonKey(self.admin, "user@lnx.org", {"key_type": "ssh", "key": other_pub})
        wait_for("the new key to let its holder in",
                 lambda: ssh(self.other_key, "hostname").stdout.strip() == "lnx_a" or None)
        # pl-vsh (setuid root) refuses a host account that is not a slice account.
        r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                            os.path.join(self.sbin, "pl-vsh"), "-c", "hostname"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("is not a slice account", r.stderr)

    def test_6_deleting_the_slices_removes_the_slivers(self):
        inits = {n: self.running_init(n) for n in ("lnx_a", "lnx_b")}
        with self.plc() as api:
            for name in ("lnx_a", "lnx_b"):
                api.DeleteSlice(self.admin, self.slice_ids[name])
        for name in ("lnx_a", "lnx_b"):
            wait_for(name + " to be destroyed", lambda: not self.record(name) or None)
            if inits[name]:
                self.assertIsNone(proc_start_time(inits[name]), name + "'s init survived")
            # The account goes right after the container (userdel needs its processes gone).
            wait_for(name + "'s host account to go", lambda: self.account(name) is None)
            self.assertFalse(os.path.exists(os.path.join(self.state, "keys", name)))
            root = os.path.join(self.state, "drivers", "containers", name, "root")
            self.assertNotIn(root, mounts())
        # The controllers remove the cgroups after the container is gone.
        wait_for("the slivers' cgroups to go",
                 lambda: self.cgroup_dirs(slivers_only=True) == [] or None)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def account(name):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            return None

    @classmethod
    def start_sshd(cls):
        key = os.path.join(cls.base, "ssh_host_ed25519_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        cls.ssh_port = free_port()
        conf = os.path.join(cls.base, "sshd_config")
        with open(conf, "w") as f:
            f.write(f"""Include {cls.sshd_dir}/planetlab.conf
Port {cls.ssh_port}
ListenAddress 127.0.0.1
HostKey {key}
PidFile {os.path.join(cls.base, 'sshd.pid')}
UsePAM no
StrictModes yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
""")
        cls.sshd_log_path = os.path.join(cls.base, "sshd.log")
        cls.sshd = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", conf, "-E",
                                     cls.sshd_log_path], stdin=subprocess.DEVNULL)

        def listening():
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", cls.ssh_port)) == 0
        wait_for("sshd to listen", lambda: cls.sshd.poll() is not None or listening())
        if cls.sshd.poll() is not None:
            raise AssertionError("sshd exited: " + cls.sshd_log())

    @classmethod
    def sshd_log(cls):
        try:
            with open(cls.sshd_log_path) as f:
                return "\n--- sshd log ---\n" + f.read()
        except (OSError, AttributeError):
            return ""

    @classmethod
    def cgroup_dirs(cls, slivers_only=False):
        """Every directory named after this run's parent group (or below it), deepest first."""
        out = []
        for point, _, _ in cgroup_mounts():
            for dirpath, dirnames, _ in os.walk(point):
                if os.path.basename(dirpath) == cls.parent:
                    for sub, _, _ in os.walk(dirpath):
                        out.append(sub)
                    dirnames[:] = []
        out.sort(key=lambda p: -p.count("/"))
        if slivers_only:
            out = [p for p in out if os.path.basename(p) != cls.parent]
        return out

    @classmethod
    def tearDownClass(cls):
        """Stops everything this run started and removes what it made, whatever state it is in."""
        for proc in (cls.sshd, cls.nodemgr):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        # Processes left in the slivers' cgroups (inits, entered commands).
        for _ in range(50):
            pids = set()
            for d in cls.cgroup_dirs():
                try:
                    with open(os.path.join(d, "cgroup.procs")) as f:
                        pids |= {int(p) for p in f.read().split()}
                except OSError:
                    pass
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        # Mounts (container roots, disk images) and loop devices under the data directory.
        for point in sorted((m for m in mounts() if m.startswith(cls.base + "/")),
                            key=lambda p: -len(p)):
            subprocess.run(["umount", "-l", point], capture_output=True)
        loops = subprocess.run(["losetup", "-a", "-O", "NAME,BACK-FILE", "-n", "-l"],
                               capture_output=True, text=True).stdout
        for line in loops.splitlines():
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[1].strip().startswith(cls.base + "/"):
                subprocess.run(["losetup", "-d", parts[0]], capture_output=True)
        for d in cls.cgroup_dirs():
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        vsh = os.path.join(cls.base, "sbin", "pl-vsh")
        for name in cls.accounts:
            a = cls.account(name)
            if a and a.pw_shell == vsh:
                subprocess.run(["userdel", name], capture_output=True)
        try:
            grp.getgrnam(cls.group)
            subprocess.run(["groupdel", cls.group], capture_output=True)
        except KeyError:
            pass
        if cls.plcd:
            try:
                cls.api("close")()
            except Exception:
                pass
            stop_plcd(cls.plcd, cls.plc_tmp)
        shutil.rmtree(cls.base, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit("usage: linux_nodemgr.py NODEMGR PLCD PL_VSH PLNODE_SETUP NM_CALL")
    NODEMGR, PLCD, PL_VSH, PLNODE_SETUP, NM_CALL = (os.path.abspath(a) for a in sys.argv[1:6])
    del sys.argv[1:6]
    reason = skip_reason()
    if reason:
        print("SKIPPED: node.linux_nodemgr " + reason)
        sys.exit(0)
    # Host accounts are host-wide (lnx_a, uid 10000 + slice_id): runs from other build trees on
    # this machine wait for each other.
    import fcntl
    lock = open("/run/lock/pl-node-linux-nodemgr.lock" if os.path.isdir("/run/lock")
                else "/tmp/pl-node-linux-nodemgr.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    unittest.main(verbosity=2, failfast=False)
