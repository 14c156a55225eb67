#!/usr/bin/env python3
"""End-to-end test of plcd with a stock client: Python's xmlrpc.client over HTTPS.

Starts `plcd --dev` on a fresh data directory (private PostgreSQL, self-signed
certificate, admin account), exercises the foundation's API surface, stops it
with SIGTERM while a call is in flight, and starts it again to check that the
first run's password still works. Uses only the standard library.

Usage: plcd_basic.py PATH_TO_PLCD
"""

import concurrent.futures
import http.client
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import xmlrpc.client

PLCD = None
MAX_BODY = 4 << 20  # the limit given to plcd: requests over 1 MiB must still pass


class Plcd:
    """A running `plcd --dev` and what it printed at start-up."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = data_dir
        self.proc = subprocess.Popen(
            [PLCD, "--dev", "--data-dir", data_dir, "--port", "0",
             "--max-body", str(MAX_BODY), "--workers", "4", *extra],
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
        if not self.url:
            self.proc.kill()
            raise RuntimeError("plcd did not start:\n" + "".join(lines) + self.proc.stderr.read())
        # Keep draining stdout so plcd never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        self.cafile = os.path.join(data_dir, "tls", "plc.crt")
        self.context = ssl.create_default_context(cafile=self.cafile)
        parts = urllib.parse.urlsplit(self.url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path

    def proxy(self):
        return xmlrpc.client.ServerProxy(self.url, context=self.context, allow_none=True)

    def connection(self):
        return http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=60)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def psql(self):
        """Opens psql on plcd's private cluster, for the in-flight test."""
        conninfo = "host=%s dbname=planetlab user=postgres" % os.path.join(self.data_dir, "pg")
        return subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", conninfo],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)


def admin_auth(plc):
    return {"AuthMethod": "password", "Username": "admin@localhost", "AuthString": plc.password}


def post(conn, path, body, content_type="text/xml"):
    conn.request("POST", path, body=body, headers={"Content-Type": content_type})
    resp = conn.getresponse()
    return resp.status, resp.read()


class PlcdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="pl-plcd-test-")
        os.chmod(cls.tmp, 0o755)  # the postgres user must reach the cluster inside
        cls.plc = Plcd(os.path.join(cls.tmp, "data"))
        if not cls.plc.password:
            raise RuntimeError("first --dev run printed no admin password")

    @classmethod
    def tearDownClass(cls):
        if cls.plc.proc.poll() is None:
            cls.plc.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_01_list_methods(self):
        methods = self.plc.proxy().system.listMethods()
        self.assertIn("AuthCheck", methods)
        self.assertIn("system.multicall", methods)

    def test_02_auth_check(self):
        s = self.plc.proxy()
        self.assertEqual(s.AuthCheck(admin_auth(self.plc)), 1)
        bad = dict(admin_auth(self.plc), AuthString="wrong")
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            s.AuthCheck(bad)
        self.assertEqual(cm.exception.faultCode, 103)

    def test_03_argument_count(self):
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            self.plc.proxy().AuthCheck(admin_auth(self.plc), 42)
        self.assertEqual(cm.exception.faultCode, 101)

    def test_04_unknown_method(self):
        with self.assertRaises(xmlrpc.client.Fault) as cm:
            self.plc.proxy().NoSuchMethod(admin_auth(self.plc))
        self.assertEqual(cm.exception.faultCode, 100)

    def test_05_multicall_mixed(self):
        mc = xmlrpc.client.MultiCall(self.plc.proxy())
        mc.AuthCheck(admin_auth(self.plc))
        mc.NoSuchMethod()
        mc.AuthCheck(dict(admin_auth(self.plc), AuthString="wrong"))
        mc.system.listMethods()
        results = mc()
        self.assertEqual(results[0], 1)
        for index, code in ((1, 100), (2, 103)):
            with self.assertRaises(xmlrpc.client.Fault) as cm:
                results[index]
            self.assertEqual(cm.exception.faultCode, code)
        self.assertIn("AuthCheck", results[3])

    def test_06_malformed_body(self):
        conn = self.plc.connection()
        status, body = post(conn, self.plc.path, b"<methodCall><methodName>x</methodName")
        self.assertEqual(status, 200)
        with self.assertRaises(xmlrpc.client.Fault):
            xmlrpc.client.loads(body)
        # The connection stays usable after a bad call.
        status, body = post(conn, self.plc.path, xmlrpc.client.dumps((), "system.listMethods"))
        self.assertEqual(status, 200)
        self.assertIn("AuthCheck", xmlrpc.client.loads(body)[0][0])
        status, _ = post(conn, self.plc.path, b"<x/>", content_type="application/json")
        self.assertEqual(status, 415)

    def test_07_large_request_within_limit(self):
        # Extra auth struct keys are ignored, as in PLCAPI: a 1.5 MiB one must pass.
        auth = dict(admin_auth(self.plc), Padding="x" * (3 << 19))
        body = xmlrpc.client.dumps((auth,), "AuthCheck").encode()
        self.assertGreater(len(body), 1 << 20)
        self.assertLess(len(body), MAX_BODY)
        self.assertEqual(self.plc.proxy().AuthCheck(auth), 1)

    def test_08_body_over_limit(self):
        conn = self.plc.connection()
        status, _ = post(conn, self.plc.path, b"<" + b"x" * (MAX_BODY + 1))
        self.assertEqual(status, 413)
        self.assertEqual(self.plc.proxy().system.listMethods()[0][:7], "system.")

    def test_09_health_and_metrics(self):
        conn = self.plc.connection()
        conn.request("GET", "/healthz")
        resp = conn.getresponse()
        self.assertEqual((resp.status, resp.read()), (200, b"ok\n"))
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode()
        self.assertEqual(resp.status, 200)
        self.assertRegex(text, r'plc_requests_total\{method="AuthCheck",fault="0"\} [1-9]')
        self.assertIn("plc_request_duration_seconds_bucket", text)
        self.assertIn('plc_db_pool_connections{state="capacity"}', text)

    def test_10_concurrent_keepalive_clients(self):
        request = xmlrpc.client.dumps((), "system.listMethods")
        auth_request = xmlrpc.client.dumps((admin_auth(self.plc),), "AuthCheck")

        def client(_):
            conn = self.plc.connection()
            status, body = post(conn, self.plc.path, auth_request)
            first_socket = conn.sock
            results = [xmlrpc.client.loads(body)[0][0]]
            for _ in range(20):
                status, body = post(conn, self.plc.path, request)
                self.assertEqual(status, 200)
                results.append(len(xmlrpc.client.loads(body)[0][0]))
            # Keep-alive: every request went over the first connection.
            self.assertIs(conn.sock, first_socket)
            conn.close()
            return results

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(client, range(16)))
        self.assertEqual(len(outcomes), 16)
        for results in outcomes:
            self.assertEqual(results[0], 1)
            self.assertEqual(len(set(results[1:])), 1)

    def test_11_sigterm_drains_in_flight_call_then_restart_keeps_password(self):
        plc = self.plc
        # Hold a lock on persons so AuthCheck blocks inside its query: a call
        # that is provably in flight when SIGTERM arrives, without timing.
        psql = plc.psql()
        psql.stdin.write("BEGIN;\nLOCK TABLE persons IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n")
        self.assertEqual(psql.stdout.readline().strip(), "locked")
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            reply = pool.submit(lambda: plc.proxy().AuthCheck(admin_auth(plc)))
            self.wait_for_blocked_query(plc)
            plc.proc.send_signal(signal.SIGTERM)
            # Refused connections prove the listener closed while the call waits.
            self.wait_until_refused(plc)
            psql.stdin.write("COMMIT;\n\\q\n")
            psql.stdin.close()
            self.assertEqual(reply.result(timeout=60), 1)
        psql.wait(timeout=30)
        self.assertEqual(plc.proc.wait(timeout=60), 0)

        again = Plcd(plc.data_dir)
        try:
            self.assertIsNone(again.password, "a second --dev run must not print a new password")
            auth = {"AuthMethod": "password", "Username": "admin@localhost",
                    "AuthString": plc.password}
            self.assertEqual(again.proxy().AuthCheck(auth), 1)
        finally:
            self.assertEqual(again.stop(), 0)

    def wait_for_blocked_query(self, plc):
        deadline = time.monotonic() + 60
        query = ("SELECT count(*) FROM pg_stat_activity"
                 " WHERE wait_event_type = 'Lock' AND query LIKE '%persons%';")
        while time.monotonic() < deadline:
            out = subprocess.run(
                ["psql", "-X", "-At", "-c", query,
                 "host=%s dbname=planetlab user=postgres" % os.path.join(plc.data_dir, "pg")],
                capture_output=True, text=True, timeout=30)
            if out.stdout.strip() not in ("", "0"):
                return
            time.sleep(0.05)  # polling PostgreSQL's view, bounded by the deadline
        self.fail("AuthCheck never blocked on the locked table")

    def wait_until_refused(self, plc):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = plc.connection()
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
            except (ConnectionRefusedError, ConnectionResetError, ssl.SSLError,
                    http.client.RemoteDisconnected):
                return
            time.sleep(0.05)  # bounded by the deadline
        self.fail("plcd kept accepting connections after SIGTERM")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    PLCD = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
