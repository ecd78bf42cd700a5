"""A minimal Lambda Runtime API server for tests that drive `bootstrap` directly.

It serves queued events on GET /2018-06-01/runtime/invocation/next, records every response,
error and init error, and can be told to answer 500 so the runtime's exit path can be tested.
This is the test's own server; the full gateway is tested elsewhere.
"""
import json
import queue
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01"


class RuntimeStub:
    def __init__(self):
        self.events = queue.Queue()
        self.results = {}            # request id -> (kind, status headers, body)
        self.init_errors = []
        self.next_status = 200       # set to 500 to make /next fail
        self.cond = threading.Condition()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != PREFIX + "/runtime/invocation/next":
                    return self._send(404)
                if stub.next_status != 200:
                    return self._send(stub.next_status, b'{"errorMessage":"stop","errorType":"Stop"}')
                item = stub.events.get()
                if item is None:
                    return self._send(500, b'{"errorMessage":"shutting down","errorType":"Stop"}')
                rid, payload, deadline_ms, extra = item
                headers = {"Lambda-Runtime-Aws-Request-Id": rid,
                           "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                           "Lambda-Runtime-Invoked-Function-Arn":
                               "arn:aws:lambda:us-east-1:123456789012:function:imagegen",
                           "Content-Type": "application/json"}
                headers.update(extra)
                self._send(200, payload, headers)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                path = self.path[len(PREFIX):]
                with stub.cond:
                    if path == "/runtime/init/error":
                        stub.init_errors.append((dict(self.headers), body))
                    else:
                        parts = path.split("/")  # ['', 'runtime', 'invocation', id, kind]
                        stub.results[parts[3]] = (parts[4], dict(self.headers), body)
                    stub.cond.notify_all()
                self._send(202, b'{"status":"OK"}')

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return "127.0.0.1:%d" % self.server.server_address[1]

    def invoke(self, event, timeout_s=30, deadline_s=20, extra_headers=None):
        """Queues an event (dict or bytes) and waits for its result: (kind, headers, body)."""
        rid = str(uuid.uuid4())
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        deadline_ms = int((time.time() + deadline_s) * 1000)
        self.events.put((rid, payload, deadline_ms, extra_headers or {}))
        end = time.time() + timeout_s
        with self.cond:
            while rid not in self.results:
                left = end - time.time()
                if left <= 0:
                    raise TimeoutError("no result for %s" % rid)
                self.cond.wait(left)
            return self.results[rid]

    def wait_init_error(self, timeout_s=10):
        end = time.time() + timeout_s
        with self.cond:
            while not self.init_errors:
                left = end - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.init_errors[0]

    def close(self):
        self.events.put(None)
        self.server.shutdown()
        self.server.server_close()


def api_event(method="GET", path="/health", query=None, body=None, headers=None, b64=False):
    """An API Gateway REST proxy event (payload 1.0) as API Gateway sends it."""
    return {
        "resource": path, "path": path, "httpMethod": method,
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()} if headers else None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "test",
                           "identity": {"sourceIp": "127.0.0.1", "apiKeyId": None, "userAgent": "test"}},
        "body": body, "isBase64Encoded": b64,
    }
