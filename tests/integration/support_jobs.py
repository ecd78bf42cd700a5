"""support_jobs.py - job round trips for the warm-invocation checks (test_valgrind_warm,
test_memory, scripts/soak): POST /jobs, then GET /jobs/{id} until the worker's invocation has
recorded the job, on one keep-alive connection. Only the standard library: scripts/soak uses it
with Debian's Python.

    from support_jobs import job_round, JOB_GOOD, JOB_FAILS
    status, doc, polls = job_round(conn, JOB_GOOD)   # ("succeeded", GET /jobs/{id}'s body, n)
"""
import json
import time

JSON = {"Content-Type": "application/json"}
# A job that succeeds, and one bedrock-local refuses once its block_words fault names "dragon".
JOB_GOOD = {"prompt": "a lighthouse at dusk, as a job", "width": 512, "height": 512}
JOB_FAILS = {"prompt": "a dragon over the sea, as a job", "width": 512, "height": 512}
UNKNOWN_JOB = "/jobs/" + "0" * 32


class JobError(Exception):
    """A job round trip answered what no job may: the step, its status and body."""


def _call(conn, method, path, body=None, headers=None):
    conn.request(method, path, body, headers or {})
    r = conn.getresponse()
    return r.status, r.read()


def job_round(conn, body, headers=None, timeout=60.0, interval=0.02):
    """POST /jobs with body, then GET /jobs/{id} every `interval` s until it is succeeded or
    failed: (final status, the last GET's JSON, number of polls). Raises JobError on any answer
    other than 202 then 200s, or when the job is still open after `timeout` s."""
    h = dict(JSON)
    h.update(headers or {})
    status, data = _call(conn, "POST", "/jobs", json.dumps(body), h)
    if status != 202:
        raise JobError("POST /jobs -> %d %s" % (status, data[:200]))
    job_id = json.loads(data)["id"]
    end = time.monotonic() + timeout
    polls = 0
    while True:
        status, data = _call(conn, "GET", "/jobs/" + job_id, None, headers)
        polls += 1
        if status != 200:
            raise JobError("GET /jobs/%s -> %d %s" % (job_id, status, data[:200]))
        doc = json.loads(data)
        if doc.get("status") in ("succeeded", "failed"):
            return doc["status"], doc, polls
        if time.monotonic() > end:
            raise JobError("job %s still %s after %.0f s" % (job_id, doc.get("status"), timeout))
        time.sleep(interval)
