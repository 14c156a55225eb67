#!/usr/bin/env python3
"""End-to-end test of the `plc` command-line client against `plcd --dev`.

Starts plcd on a fresh data directory (port 0), reads the URL and the admin password it prints,
and runs the plc binary as a user would: system.listMethods, AuthCheck with PLC_PASSWORD, a
nested-argument call, a configuration file, an unknown method (fault 100, exit 1), a wrong
password (fault 103, exit 1) and an untrusted certificate (exit 2). Uses only the standard library.

Usage: plc_cli_e2e.py PATH_TO_PLCD PATH_TO_PLC
"""

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

PLCD = None
PLC = None


class Plcd:
    """A running `plcd --dev` and what it printed at start-up."""

    def __init__(self, data_dir):
        self.proc = subprocess.Popen(
            [PLCD, "--dev", "--data-dir", data_dir, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.password = None
        self.url = None
        deadline = time.monotonic() + 180
        lines = []
        for line in self.proc.stdout:
            lines.append(line)
            m = re.search(r"password: (\S+)", line)
            if m:
                self.password = m.group(1)
            m = re.search(r"listening on (\S+)", line)
            if m:
                self.url = m.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url or not self.password:
            self.proc.kill()
            raise RuntimeError("plcd did not start:\n" + "".join(lines) + self.proc.stderr.read())
        # Keep draining both pipes so plcd never blocks on a full one.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.cafile = os.path.join(data_dir, "tls", "plc.crt")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class PlcCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="plc_cli_e2e_")
        os.chmod(cls.tmp, 0o755)  # the postgres user must reach the cluster inside
        cls.plcd = Plcd(os.path.join(cls.tmp, "data"))
        # An empty HOME and XDG_CONFIG_HOME keep the user's own plc.toml out of the test.
        cls.home = os.path.join(cls.tmp, "home")
        os.makedirs(cls.home)

    @classmethod
    def tearDownClass(cls):
        cls.plcd.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def plc(self, *args, password=None, with_url=True):
        env = {k: v for k, v in os.environ.items() if k != "PLC_PASSWORD"}
        env["HOME"] = self.home
        env["XDG_CONFIG_HOME"] = os.path.join(self.home, ".config")
        if password is not None:
            env["PLC_PASSWORD"] = password
        cmd = [PLC]
        if with_url:
            cmd += ["--url", self.plcd.url, "--cafile", self.plcd.cafile]
        cmd += list(args)
        return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=120)

    def test_list_methods(self):
        r = self.plc("--user", "admin@localhost", "system.listMethods")
        self.assertEqual(r.returncode, 0, r.stderr)
        methods = json.loads(r.stdout)
        self.assertIn("AuthCheck", methods)
        self.assertIn("system.listMethods", methods)
        self.assertEqual(r.stdout, json.dumps(methods, indent=2) + "\n")

    def test_auth_check_with_password_from_environment(self):
        r = self.plc("--user", "admin@localhost", "AuthCheck", password=self.plcd.password)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "1\n")

    def test_arguments_reach_the_server(self):
        r = self.plc("system.methodHelp", "AuthCheck")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsInstance(json.loads(r.stdout), str)
        calls = ("[{'methodName': 'system.methodSignature', 'params': ['AuthCheck']},"
                 " {'methodName': 'NoSuchMethod', 'params': [None, True, 4294967296]}]")
        r = self.plc("system.multicall", calls)
        self.assertEqual(r.returncode, 0, r.stderr)
        results = json.loads(r.stdout)
        self.assertEqual(len(results), 2)
        self.assertIsInstance(results[0], list)
        self.assertEqual(results[1]["faultCode"], 100)

    def test_unknown_method_is_fault_100(self):
        r = self.plc("--user", "admin@localhost", "NoSuchMethod", password=self.plcd.password)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stderr.startswith("fault 100: "), r.stderr)
        self.assertEqual(r.stdout, "")

    def test_wrong_password_is_fault_103(self):
        r = self.plc("--user", "admin@localhost", "AuthCheck", password="not the password")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(r.stderr.startswith("fault 103: "), r.stderr)

    def test_missing_password_without_terminal(self):
        r = self.plc("--user", "admin@localhost", "AuthCheck")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("PLC_PASSWORD", r.stderr)

    def test_password_prompt_on_a_terminal(self):
        env = {k: v for k, v in os.environ.items() if k != "PLC_PASSWORD"}
        env["HOME"] = self.home
        env["XDG_CONFIG_HOME"] = os.path.join(self.home, ".config")
        master, slave = pty.openpty()
        proc = subprocess.Popen(
            [PLC, "--url", self.plcd.url, "--cafile", self.plcd.cafile,
             "--user", "admin@localhost", "AuthCheck"],
            env=env, stdin=slave, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        try:
            deadline = time.monotonic() + 60
            while b"Password for admin@localhost: " not in seen:
                left = deadline - time.monotonic()
                self.assertGreater(left, 0, "no prompt, terminal shows %r" % seen)
                ready, _, _ = select.select([master], [], [], left)
                if ready:
                    seen += os.read(master, 1024)
            os.write(master, self.plcd.password.encode() + b"\n")
            out, _ = proc.communicate(timeout=60)
            while True:
                ready, _, _ = select.select([master], [], [], 0)
                if not ready:
                    break
                try:
                    chunk = os.read(master, 1024)
                except OSError:  # the terminal's last user has gone
                    break
                if not chunk:
                    break
                seen += chunk
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
        self.assertEqual(proc.returncode, 0, seen)
        self.assertEqual(out, b"1\n")
        self.assertNotIn(self.plcd.password.encode(), seen)

    def test_configuration_file(self):
        config = os.path.join(self.tmp, "plc.toml")
        with open(config, "w") as f:
            f.write('url = "%s"\nuser = "admin@localhost"\npassword = "%s"\ncafile = "%s"\n'
                    % (self.plcd.url, self.plcd.password, self.plcd.cafile))
        r = self.plc("--config", config, "AuthCheck", with_url=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "1\n")
        # The default location is read too.
        os.makedirs(os.path.join(self.home, ".config", "planetlab"), exist_ok=True)
        shutil.copy(config, os.path.join(self.home, ".config", "planetlab", "plc.toml"))
        try:
            r = self.plc("AuthCheck", with_url=False)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "1\n")
        finally:
            os.remove(os.path.join(self.home, ".config", "planetlab", "plc.toml"))

    def test_untrusted_certificate_is_a_transport_error(self):
        # Without --cafile the system store is used, which does not hold plcd's certificate.
        r = self.plc("--url", self.plcd.url, "system.listMethods", with_url=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("TLS handshake", r.stderr)
        self.assertIn("certificate verify failed", r.stderr)
        r = self.plc("--url", self.plcd.url, "--insecure", "system.listMethods", with_url=False)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_argument_is_a_usage_error(self):
        r = self.plc("system.methodHelp", "{'unterminated': 1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("argument 1", r.stderr)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    PLCD, PLC = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
