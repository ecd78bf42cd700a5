"""test_policy_reload.py - the local stack follows policy edits (imagegen-gateway --watch-policy,
which scripts/run-local sets to IMAGEGEN_POLICY_DIR).

A client sends requests in a loop while config.lua's limits.max_images_per_request changes: every
request succeeds or is refused by the policy in force (never a 5xx, never dropped), every request
sent after the gateway reports the reload gets the new answer, and an old answer never follows a
new one. A syntax error saved mid-run leaves the old policy serving and its file:line printed;
fixing it reloads. Requests in flight during a reload finish on the environment that took them.
The last case runs scripts/run-local itself: the reload lines reach its terminal (stderr).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stack import BUILD_DIR, SOURCE_DIR, Stack, free_port, http_call, run_tests  # noqa: E402
from policy_copy import policy_with  # noqa: E402

RUN_LOCAL = os.path.join(SOURCE_DIR, "scripts", "run-local")
RELOADED = r"imagegen-gateway: policy reloaded from "
REJECTED = r"imagegen-gateway: policy in .* not reloaded, the previous one keeps serving"
# Two images asked for: allowed under a cap of 2, refused (400) under a cap of 1.
TWO_IMAGES = {"prompt": "two boats", "width": 512, "height": 512, "numberOfImages": 2}


def save_config(policy_dir, text):
    """Saves config.lua as an editor does: written beside it, then renamed over it."""
    tmp = os.path.join(policy_dir, ".config.lua.swp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(policy_dir, "config.lua"))


def config_with_cap(cap):
    return 'local c = require("shipped_config")\nc.limits.max_images_per_request = %d\nreturn c\n' % cap


class Client(threading.Thread):
    """Sends TWO_IMAGES in a loop; records (mark when sent, mark when answered, status, code, body)
    per request. The test sets mark to the phase it knows the stack is in, and to None while a
    change is on its way: only a request sent and answered within one phase has to show it."""

    def __init__(self, send):
        super().__init__(daemon=True)
        self.send = send
        self.mark = 0
        self.results = []
        self.stop_flag = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop_flag.is_set():
                mark = self.mark
                r = self.send()
                code = None
                if r.status != 200:
                    code = r.json().get("error", {}).get("code")
                self.results.append((mark, self.mark, r.status, code, r.body[:300]))
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def wait_for_more(self, n):
        start = len(self.results)
        while len(self.results) < start + n and self.is_alive():
            self.stop_flag.wait(0.05)

    def finish(self):
        self.stop_flag.set()
        self.join(120)


class ReloadUnderLoad(unittest.TestCase):
    def setUp(self):
        self.policy = policy_with("c.limits.max_images_per_request = 2")
        self.st = Stack(policy_dir=self.policy, gateway_args=["--watch-policy", self.policy],
                        env={"IMAGEGEN_RATE_LIMIT": "off"}).start()
        self.addCleanup(self.st.stop)

    def gateway_mark(self):
        return len(self.st.gateway.lines())

    def reload(self, text, pattern=RELOADED, client=None):
        start = self.gateway_mark()
        if client:
            client.mark = None  # from the save on, a request may get either answer
        save_config(self.policy, text)
        return self.st.gateway.wait_for(pattern, timeout=60, start=start)

    def send(self):
        return self.st.request("POST", "/generate-image", TWO_IMAGES, timeout=60)

    def answers(self, client):
        """The client's results as (phase, 'ok' (200) / 'capped' (400 over the cap)), phase None for
        a request that overlapped a change; anything else fails the test."""
        out = []
        for sent, answered, status, code, body in client.results:
            phase = sent if sent == answered else None
            if status == 200:
                out.append((phase, "ok"))
            elif status == 400 and code == "invalid_parameter":
                out.append((phase, "capped"))
            else:
                self.fail(f"a request failed during the reloads: {status} {body!r}")
        return out

    def test_a_saved_cap_answers_the_next_request_and_none_fails(self):
        client = Client(self.send)
        client.start()
        self.addCleanup(client.finish)
        client.wait_for_more(3)
        self.reload(config_with_cap(1), client=client)
        client.mark = 1
        client.wait_for_more(3)
        self.reload(config_with_cap(2), client=client)
        client.mark = 2
        client.wait_for_more(3)
        client.finish()
        self.assertIsNone(client.error)
        got = self.answers(client)
        # Before any change: the cap of 2 allows two images.
        self.assertEqual({a for m, a in got if m == 0}, {"ok"}, got)
        # Sent after the first reload was reported: refused; after the second: allowed again.
        self.assertEqual({a for m, a in got if m == 1}, {"capped"}, got)
        self.assertEqual({a for m, a in got if m == 2}, {"ok"}, got)
        # The answer changes once per reload: ok ... capped ... ok, never back and forth.
        changes = [got[i][1] for i in range(len(got)) if i == 0 or got[i][1] != got[i - 1][1]]
        self.assertEqual(changes, ["ok", "capped", "ok"], got)

    def test_a_syntax_error_keeps_the_old_policy_serving_and_is_printed(self):
        client = Client(self.send)
        client.start()
        self.addCleanup(client.finish)
        client.wait_for_more(2)
        broken = config_with_cap(1).replace("return c", "return c c")
        start = self.gateway_mark()
        client.mark = None
        save_config(self.policy, broken)
        self.st.gateway.wait_for(REJECTED, timeout=60, start=start)
        where = self.st.gateway.wait_for(r"config\.lua:\d+:", timeout=10, start=start)
        self.assertTrue(where)
        client.mark = 1
        client.wait_for_more(3)
        self.assertNotRegex("\n".join(self.st.gateway.lines()[start:]), RELOADED)
        self.reload(config_with_cap(1), client=client)
        client.mark = 2
        client.wait_for_more(3)
        client.finish()
        self.assertIsNone(client.error)
        got = self.answers(client)
        self.assertEqual({a for m, a in got if m in (0, 1)}, {"ok"}, got)  # the old cap of 2 still serves
        self.assertEqual({a for m, a in got if m == 2}, {"capped"}, got)   # the fix took effect

    def test_requests_in_flight_finish_on_the_environments_that_took_them(self):
        st = self.st
        status, _ = st.bedrock_control("POST", "faults", {"latency_ms": 800})
        self.assertEqual(status, 200)
        old_envs = set(st.env_pids())
        mark = self.gateway_mark()
        results = []
        threads = [threading.Thread(target=lambda: results.append(self.send())) for _ in range(2)]
        for t in threads:
            t.start()
        # Both are running once two environments have written their START lines.
        st.gateway.wait_for(r"^\[env-\d+\] START RequestId", timeout=30, start=mark)
        while sum(1 for x in st.gateway.lines()[mark:] if re.match(r"^\[env-\d+\] START ", x)) < 2:
            threads[0].join(0.02)
        self.reload(config_with_cap(1))
        for t in threads:
            t.join(60)
        self.assertEqual([r.status for r in results], [200, 200], results)
        for r in results:
            self.assertIn(st.access_line(r.headers["x-amzn-RequestId"])["env"], old_envs)
        after = self.send()
        self.assertEqual(after.status, 400, after)
        self.assertNotIn(st.access_line(after.headers["x-amzn-RequestId"])["env"], old_envs)
        for env in old_envs:
            st.wait_gateway_json(lambda o: o.get("message") == "execution environment ended" and o.get("env") == env)


class RunLocalShowsReloads(unittest.TestCase):
    """scripts/run-local: the gateway's reload verdicts on the terminal (run-local's stderr)."""

    def test_edits_reload_and_a_broken_edit_is_printed_on_the_terminal(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        policy = policy_with("c.limits.max_images_per_request = 2")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "IMAGEGEN_RATE_LIMIT"}
        env.update(IMAGEGEN_PORT=str(port), IMAGEGEN_BUILD_DIR=BUILD_DIR, TMPDIR=tmp.name,
                   IMAGEGEN_POLICY_DIR=policy)
        proc = subprocess.Popen([RUN_LOCAL], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
        err_lines = []
        cond = threading.Condition()

        def read_err():
            for line in proc.stderr:
                with cond:
                    err_lines.append(line.rstrip("\n"))
                    cond.notify_all()

        reader = threading.Thread(target=read_err, daemon=True)
        reader.start()

        def stop():
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            proc.stdout.close()

        self.addCleanup(stop)

        def wait_err(pattern, start):
            rx = re.compile(pattern)
            with cond:
                ok = cond.wait_for(lambda: any(rx.search(x) for x in err_lines[start:]) or proc.poll() is not None,
                                   timeout=60)
                self.assertTrue(ok and any(rx.search(x) for x in err_lines[start:]),
                                f"no /{pattern}/ on run-local's stderr: {err_lines}")

        line = proc.stdout.readline()
        m = re.match(r"imagegen local stack: (http://127\.0\.0\.1:\d+) ", line)
        self.assertTrue(m, line)
        api = m.group(1)
        post = lambda: http_call(api + "/generate-image", "POST", TWO_IMAGES, timeout=60)  # noqa: E731
        self.assertEqual(post().status, 200)

        start = len(err_lines)
        save_config(policy, config_with_cap(1))
        wait_err(RELOADED, start)
        r = post()
        self.assertEqual((r.status, r.json()["error"]["code"]), (400, "invalid_parameter"), r)

        start = len(err_lines)
        save_config(policy, "local c = require('shipped_config')\nc.limits = {\nreturn c\n")
        wait_err(REJECTED, start)
        wait_err(r"config\.lua:\d+: ", start)
        self.assertEqual(post().status, 400, "the previous policy (cap 1) still serves")

        start = len(err_lines)
        save_config(policy, config_with_cap(2))
        wait_err(RELOADED, start)
        self.assertEqual(post().status, 200)


if __name__ == "__main__":
    sys.exit(run_tests("test_policy_reload"))
