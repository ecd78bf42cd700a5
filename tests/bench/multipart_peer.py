"""multipart_peer.py - the Python peer of the multipart row of scripts/bench: parses the same
multipart/form-data body with the standard library's email package (BytesParser with the HTTP
policy, as the oracle in tests/integration/test_multipart_oracle.py reads forms) and takes every
part's name and bytes, in a loop of repetitions after one untimed warm-up. Prints the median.

    /usr/bin/python3 tests/bench/multipart_peer.py FORM_FILE BOUNDARY REPETITIONS
"""
import email.parser
import email.policy
import statistics
import sys
import time


def parse(message):
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(message)
    return [(p.get_param("name", header="content-disposition"), p.get_payload(decode=True)) for p in msg.iter_parts()]


def main(argv):
    path, boundary, reps = argv[0], argv[1], int(argv[2])
    with open(path, "rb") as f:
        body = f.read()
    # The email package reads a whole message: the form's Content-Type header, then its body.
    message = ("Content-Type: multipart/form-data; boundary=\"%s\"\r\n\r\n" % boundary).encode() + body
    parts = parse(message)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        parts = parse(message)
        times.append((time.perf_counter() - t0) * 1000)
    print("form: %d bytes, %d parts, the file %d bytes" % (len(body), len(parts), len(parts[0][1])))
    print("python email.parser: %.2f ms" % statistics.median(times))


if __name__ == "__main__":
    main(sys.argv[1:])
