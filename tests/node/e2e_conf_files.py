#!/usr/bin/env python3
"""Issue #6 point 9, end to end: conf files go from PLC's PlanetLabConf/ directory to a real
nodemgr (sim backend) as the original did.

plcd --dev serves `<data_dir>/PlanetLabConf` at https://PLC/PlanetLabConf/: a file comes back
byte for byte (GET, and HEAD's length), a missing one is 404, traversal (.., percent-escaped ..,
a symbolic link leading out, hidden names) is refused and the file beside the tree never
appears in an answer, other methods are 405. Then the admin adds a ConfFile (source
PlanetLabConf/..., dest, mode, owner and group, postinstall_cmd appending to a marker) and a
node manager with `[conf_files] enabled` and a scratch root installs it under that root with the
mode and runs postinstall once; a changed source is installed again at a later poll (postinstall
again), an unchanged one is not; a ConfFile whose source PLC lacks is reported failed with the
404. No elapsed time is asserted; each condition is awaited with a generous deadline.

Usage: e2e_conf_files.py PATH_TO_PLCD PATH_TO_NODEMGR
"""

import grp
import http.client
import os
import pwd
import stat
import subprocess

from e2e_common import TestbedCase, run_suite, wait_for


def read_or_none(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


class ConfFiles(TestbedCase):
    prefix = "pl-e2e-conf-"

    @classmethod
    def prepare(cls):
        cls.conf_dir = os.path.join(cls.tb.plc.data, "PlanetLabConf")

    def get(self, target, method="GET", body=None):
        """(status, headers, body) of one request with `target` sent exactly as given."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.tb.plc.port, timeout=30,
                                           context=self.tb.plc.context)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            if body is not None:
                conn.putheader("Content-Type", "text/xml")
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            res = conn.getresponse()
            return res.status, dict(res.getheaders()), res.read()
        finally:
            conn.close()

    def write_source(self, relative, data):
        path = os.path.join(self.conf_dir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def test_0_a_conf_dir_that_is_no_directory_is_refused_at_start(self):
        missing = os.path.join(self.tb.tmp, "no-such-conf-dir")
        run = subprocess.run([self.plcd, "--plain-http", "--port", "0", "--db", "dbname=unused",
                              "--conf-dir", missing], capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("conf_dir %s is not a directory" % missing, run.stderr)
        self.assertFalse(os.path.exists(missing))

    def test_1_plcd_serves_the_tree_and_nothing_outside(self):
        self.assertTrue(os.path.isfile(os.path.join(self.conf_dir, "README")),
                        "plcd --dev made no PlanetLabConf/README")
        blob = bytes(range(256)) * 5 + b"\r\n\x00end"
        self.write_source("e2e/blob.bin", blob)
        secret = os.path.join(self.tb.plc.data, "secret.txt")
        with open(secret, "w") as f:
            f.write("SECRET beside the tree\n")
        os.symlink("../secret.txt", os.path.join(self.conf_dir, "escape"))
        os.symlink("e2e/blob.bin", os.path.join(self.conf_dir, "alias.bin"))

        status, headers, body = self.get("/PlanetLabConf/e2e/blob.bin?node_id=1")
        self.assertEqual(status, 200)
        self.assertEqual(body, blob)
        self.assertEqual(headers["Content-Type"], "application/octet-stream")
        status, headers, body = self.get("/PlanetLabConf/e2e/blob.bin", method="HEAD")
        self.assertEqual((status, headers["Content-Length"], body), (200, str(len(blob)), b""))
        self.assertEqual(self.get("/PlanetLabConf/alias.bin")[2], blob)  # a link inside: fine

        self.assertEqual(self.get("/PlanetLabConf/e2e/nothing.conf")[0], 404)
        for target in ("/PlanetLabConf/../secret.txt", "/PlanetLabConf/e2e/../../secret.txt",
                       "/PlanetLabConf/%2e%2e/secret.txt", "/PlanetLabConf/..%2fsecret.txt",
                       "/PlanetLabConf/escape", "/PlanetLabConf//etc/passwd",
                       "/PlanetLabConf/%2fetc%2fpasswd", "/PlanetLabConf/.hidden"):
            status, _, body = self.get(target)
            self.assertIn(status, (403, 404), target)
            self.assertNotIn(b"SECRET", body, target)
            self.assertNotIn(b"root:", body, target)
        self.assertEqual(self.get("/PlanetLabConf/escape")[0], 403)
        self.assertEqual(self.get("/PlanetLabConf/../secret.txt")[0], 403)
        status, headers, _ = self.get("/PlanetLabConf/e2e/blob.bin", method="POST", body=b"<x/>")
        self.assertEqual((status, headers.get("Allow")), (405, "GET, HEAD"))
        # XML-RPC still works beside it.
        self.assertEqual(self.tb.plc.api.AuthCheck(self.tb.plc.admin), 1)

    def test_2_node_installs_and_reinstalls_a_conf_file(self):
        api, admin = self.tb.plc.api, self.tb.plc.admin
        root = os.path.join(self.tb.tmp, "node-root")
        os.makedirs(root)
        marker = os.path.join(self.tb.tmp, "postinstall.log")
        if os.geteuid() == 0:
            owner, group = "root", "root"
        else:  # only root may give files away; keep the test meaningful for others too
            owner = pwd.getpwuid(os.geteuid()).pw_name
            group = grp.getgrgid(os.getegid()).gr_name
        self.write_source("e2e/motd", b"first version\n")
        api.AddConfFile(admin, {
            "source": "PlanetLabConf/e2e/motd", "dest": "/etc/motd.e2e",
            "file_permissions": "0640", "file_owner": owner, "file_group": group,
            "postinstall_cmd": "echo ran >> '%s'" % marker, "enabled": True})
        api.AddConfFile(admin, {
            "source": "PlanetLabConf/e2e/absent.conf", "dest": "/etc/absent.e2e",
            "file_permissions": "0644", "file_owner": owner, "file_group": group,
            "enabled": True})
        extra = '[conf_files]\nenabled = true\nroot = "%s"\n' % root
        nm = self.tb.enrol("conf.e2e.example.org", poll_interval=1, push=False, extra_toml=extra)

        dest = os.path.join(root, "etc", "motd.e2e")
        wait_for("the conf file installed", lambda: read_or_none(dest) == b"first version\n")
        info = os.stat(dest)
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o640)
        self.assertEqual(pwd.getpwuid(info.st_uid).pw_name, owner)
        self.assertEqual(grp.getgrgid(info.st_gid).gr_name, group)
        wait_for("postinstall run once", lambda: read_or_none(marker) == b"ran\n")
        nm.out.wait_line(r"node\.conf_files event=failed dest=/etc/absent\.e2e .*404")
        self.assertFalse(os.path.exists(os.path.join(root, "etc", "absent.e2e")))

        # A changed source is installed again at a later poll, with postinstall again.
        self.write_source("e2e/motd", b"second version\n")
        wait_for("the new version installed", lambda: read_or_none(dest) == b"second version\n")
        wait_for("postinstall run again", lambda: read_or_none(marker) == b"ran\nran\n")
        # Unchanged afterwards: more polls install nothing and run nothing.
        polls = self.tb.plc.calls("GetSlivers")
        wait_for("three more polls", lambda: self.tb.plc.calls("GetSlivers") >= polls + 3)
        self.assertEqual(read_or_none(marker), b"ran\nran\n")
        self.assertEqual(stat.S_IMODE(os.stat(dest).st_mode), 0o640)
        self.assertIsNone(nm.proc.poll(), "nodemgr ended:\n" + nm.log())


if __name__ == "__main__":
    run_suite(__doc__)
