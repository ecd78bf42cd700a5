"""test_aws_valgrind.py - 1,000 rounds of sign, put (to s3rver) and presign under valgrind, with
the S3 work of the edits every fourth round (an upload fetched with GetObject, past its cap and
absent; a presigned POST form): any definitely or indirectly lost block fails the test. In the sanitizer build valgrind cannot run
(ASan and valgrind do not mix), so the rounds run under ASan's own leak checker instead."""

import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support_s3rver import S3rver, build_dir  # noqa: E402

BUCKET = "imagegen-rounds"
ROUNDS = 1000
TOOL = os.path.join(build_dir(), "tests", "aws_rounds")


def run(cmd, env):
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=540)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    passed = failed = 0
    if not os.path.exists(TOOL):
        print("missing %s: build first" % TOOL)
        print("aws valgrind: 0 passed, 1 failed")
        return 1
    sanitize = os.environ.get("IMAGEGEN_SANITIZE") == "1"
    with S3rver(BUCKET) as server:
        env = server.env()
        if sanitize:
            print("valgrind skipped: this is the sanitizer build (ASan and valgrind don't mix); "
                  "running the rounds under ASan's leak checker instead")
            env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1:" + env.get("ASAN_OPTIONS", "")
            cmd = [TOOL, BUCKET, str(ROUNDS)]
        else:
            valgrind = shutil.which("valgrind")
            if not valgrind:
                print("valgrind is not installed (Debian package valgrind)")
                print("aws valgrind: 0 passed, 1 failed")
                return 1
            cmd = [valgrind, "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                   "--error-exitcode=1", TOOL, BUCKET, str(ROUNDS)]
        rc, out, err = run(cmd, env)
    summary = None
    for line in out.splitlines():
        if line.startswith("{"):
            summary = json.loads(line)
    ok = rc == 0 and summary is not None and summary["rounds"] == ROUNDS and summary["failures"] == 0
    if ok:
        passed += 1
        print("rounds: %s" % json.dumps(summary))
        for line in err.splitlines():
            if "ERROR SUMMARY" in line or "definitely lost" in line or "indirectly lost" in line \
                    or "All heap blocks were freed" in line:
                print(line)
    else:
        failed += 1
        print("FAIL: exit %d, summary %s" % (rc, summary))
        print("\n".join(err.splitlines()[-80:]))
    print("aws valgrind: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
