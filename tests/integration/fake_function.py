#!/usr/bin/python3
"""fake_function.py - a scripted Lambda function that speaks the Runtime API, for gateway tests.

It stands in for the function side so the gateway can be tested on its own: each invocation's
query string (the proxy event's queryStringParameters) says what to do:

  (none)             answer 200 with the event, the pid and the Lambda variables it sees
  mode=error         POST /error (type=... sets Lambda-Runtime-Function-Error-Type)
  mode=malformed     answer something that is not a proxy response (kind=notjson|nostatus|badbody|badstatus)
  mode=sleep         sleep seconds=S, then answer
  mode=crash         exit mid-invocation (signal=1 for SIGKILL of itself)
  mode=big           answer a body of size=N bytes
  mode=binary        answer bytes base64-encoded with isBase64Encoded
  mode=headers       answer with headers and multiValueHeaders to merge
  mode=log           write lines=N lines to stdout and stderr, then answer
  mode=probe         exercise the Runtime API's status codes and print what it got as JSON lines
  mode=record        print {"recorded": event, "requestId", "env"} (the Lambda variables), then answer

An asynchronous invocation's event is its payload as given, so a test scripts it the same way:
{"queryStringParameters": {"mode": "error"}, ...}. With once=PATH, error and crash fail only
while PATH does not exist (they create it first), so a retry succeeds.

Command-line flags script the init phase: --init-error, --exit-before-next, --init-sleep S.
"""
import base64
import http.client
import json
import os
import signal
import sys
import time

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
BASE = "/2018-06-01/runtime"


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Runtime:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=None)

    def call(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                self.conn.request(method, BASE + path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                return resp.status, dict(resp.getheaders()), resp.read()
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=None)
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def next(self):
        return self.call("GET", "/invocation/next")

    def respond(self, request_id, payload):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.call("POST", f"/invocation/{request_id}/response", body,
                         {"Content-Type": "application/json"})

    def error(self, request_id, error_type, message):
        body = json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": []}).encode()
        return self.call("POST", f"/invocation/{request_id}/error", body,
                         {"Lambda-Runtime-Function-Error-Type": error_type, "Content-Type": "application/json"})


def answer(status, body, headers=None, **extra):
    out = {"statusCode": status, "headers": headers or {"Content-Type": "application/json"}, "body": body}
    out.update(extra)
    return out


def lambda_environment():
    names = ["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
             "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
             "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER", "AWS_REGION", "AWS_DEFAULT_REGION", "TZ",
             "LANG", "PATH", "LD_LIBRARY_PATH", "AWS_ACCESS_KEY_ID", "IMAGEGEN_TEST_MARKER",
             "AWS_LAMBDA_INITIALIZATION_TYPE", "HOME", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_DYNAMODB",
             "IMAGEGEN_TABLE"]
    return {n: os.environ.get(n) for n in names}


def probe(rt, request_id):
    """Runtime API status codes, observed by a client: wrong id, first post, second post."""
    results = {}
    status, _, body = rt.respond("00000000-0000-4000-8000-000000000000", {"statusCode": 200, "body": "x"})
    results["wrong_id"] = [status, json.loads(body or b"{}").get("errorType")]
    status, _, body = rt.respond(request_id, answer(200, json.dumps({"probe": True})))
    results["first_post"] = [status, json.loads(body or b"{}").get("status")]
    status, _, body = rt.respond(request_id, answer(200, "again"))
    results["second_post"] = [status, json.loads(body or b"{}").get("errorType")]
    status, _, body = rt.error(request_id, "Function.Late", "after the response")
    results["error_after_response"] = [status, json.loads(body or b"{}").get("errorType")]
    say({"probe": results, "requestId": request_id})


def first_time(q):
    """False when q names a once=PATH that exists; otherwise creates it (if named) and says True."""
    path = q.get("once")
    if not path:
        return True
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def handle(rt, request_id, event):
    q = (event.get("queryStringParameters") if isinstance(event, dict) else None) or {}
    mode = q.get("mode", "echo")
    if mode in ("error", "crash") and not first_time(q):
        mode = "echo"
    if mode == "error":
        return rt.error(request_id, q.get("type", "Function.TestError"), "scripted failure")
    if mode == "malformed":
        kind = q.get("kind", "notjson")
        payload = {"notjson": b"this is not json",
                   "nostatus": json.dumps({"body": "no status"}).encode(),
                   "badbody": json.dumps({"statusCode": 200, "body": {"an": "object"}}).encode(),
                   "badstatus": json.dumps({"statusCode": "teapot", "body": ""}).encode()}[kind]
        return rt.respond(request_id, payload)
    if mode == "sleep":
        time.sleep(float(q.get("seconds", "1")))
    if mode == "crash":
        if q.get("signal"):
            os.kill(os.getpid(), signal.SIGKILL)
        os._exit(3)
    if mode == "big":
        size = int(q.get("size", "1000"))
        status, _, body = rt.respond(request_id, answer(200, "x" * size))
        say({"big_post": [status, json.loads(body or b"{}").get("errorType")], "requestId": request_id})
        return None
    if mode == "binary":
        raw = bytes(range(256)) * 4
        return rt.respond(request_id, answer(200, base64.b64encode(raw).decode(),
                                             {"Content-Type": "application/octet-stream"}, isBase64Encoded=True))
    if mode == "headers":
        return rt.respond(request_id, {
            "statusCode": 201,
            "headers": {"X-Single": "one", "X-Both": "from-headers", "Content-Type": "text/plain", "X-Num": 7},
            "multiValueHeaders": {"X-Multi": ["a", "b"], "x-both": ["from-multi"]},
            "body": "created"})
    if mode == "log":
        for i in range(int(q.get("lines", "3"))):
            print(f"stdout line {i} of {request_id}", flush=True)
            print(f"stderr line {i} of {request_id}", file=sys.stderr, flush=True)
    if mode == "probe":
        return probe(rt, request_id)
    if mode == "record":
        say({"recorded": event, "requestId": request_id, "env": lambda_environment()})
    body = {"event": event, "pid": os.getpid(), "env": lambda_environment(), "requestId": request_id}
    return rt.respond(request_id, answer(200, json.dumps(body)))


def main():
    args = sys.argv[1:]
    rt = Runtime(API)
    if "--init-sleep" in args:
        time.sleep(float(args[args.index("--init-sleep") + 1]))
    if "--exit-before-next" in args:
        print("exiting before next", flush=True)
        sys.exit(2)
    if "--init-error" in args:
        body = json.dumps({"errorMessage": "scripted init failure", "errorType": "Runtime.ScriptedInit"}).encode()
        status, _, _ = rt.call("POST", "/init/error", body, {"Lambda-Runtime-Function-Error-Type": "Runtime.ScriptedInit"})
        say({"init_error_post": status})
        sys.exit(1)
    say({"fake_function": "ready", "pid": os.getpid()})
    while True:
        status, headers, body = rt.next()
        if status != 200:
            say({"next_status": status})
            sys.exit(0 if status == 500 else 1)
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        say({"invocation": request_id, "deadline": headers.get("Lambda-Runtime-Deadline-Ms"),
             "arn": headers.get("Lambda-Runtime-Invoked-Function-Arn"),
             "trace": headers.get("Lambda-Runtime-Trace-Id"), "contentType": headers.get("Content-Type"),
             "eventBytes": len(body)})
        handle(rt, request_id, json.loads(body))


if __name__ == "__main__":
    main()
