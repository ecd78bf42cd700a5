"""test_dynamodb_dynalite.py - our DynamoDB client against dynalite, a DynamoDB we did not write.

dynalite runs in memory on a free 127.0.0.1 port; botocore creates the table (a string key "id"
and a global secondary index "by-owner" on owner + created) and reads behind our back. Our C
client, driven through build/tests/aws_json_cli, does PutItem (plain and conditional), UpdateItem
with a condition that holds and one that fails (ConditionalCheckFailedException, not retried),
GetItem with ConsistentRead, Query on the index newest first in pages (LastEvaluatedKey handed
back as ExclusiveStartKey until the last page, no gaps, no repeats), and meets a missing table
(ResourceNotFoundException) and an invalid item (ValidationException). dynalite sends x-amz-crc32
with every answer, which our client checks.
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support_dynalite import Dynalite, build_dir  # noqa: E402

TABLE = "imagegen-records"
INDEX = "by-owner"
CLI = os.path.join(build_dir(), "tests", "aws_json_cli")
SERVER = None


def run(*commands):
    """Runs commands through one aws_json_cli process; one answer per command."""
    stdin = "".join(json.dumps(c) + "\n" for c in commands)
    proc = subprocess.run([CLI], input=stdin.encode(), env=SERVER.env(), capture_output=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError("aws_json_cli failed (%d): %s" % (proc.returncode, proc.stderr.decode("utf-8", "replace")))
    answers = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines() if line.strip()]
    if len(answers) != len(commands):
        raise AssertionError("%d commands, %d answers: %r" % (len(commands), len(answers), answers))
    return answers


def one(command):
    return run(command)[0]


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def record(id_, owner, created, **extra):
    item = {"id": S(id_), "owner": S(owner), "created": N(created)}
    item.update(extra)
    return item


class DynamoDBAgainstDynalite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = SERVER.client()
        cls.db.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                  {"AttributeName": "owner", "AttributeType": "S"},
                                  {"AttributeName": "created", "AttributeType": "N"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": INDEX,
                                     "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                                                   {"AttributeName": "created", "KeyType": "RANGE"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        cls.db.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 20})

    def assertOk(self, answer):
        self.assertEqual(answer["err"], "ok", answer)
        self.assertEqual(answer["status"], 200, answer)
        self.assertEqual(answer["attempts"], 1, answer)

    def test_put_then_consistent_get_round_trips(self):
        item = record("img-round", "key-round", 1767225600123, prompt_hash=S("9f86d081"), cached={"BOOL": False},
                      params={"M": {"width": N(1024), "style": S("caf\u00e9 \u2615")}}, seeds={"L": [N(1), N(2)]})
        self.assertOk(one({"op": "put", "table": TABLE, "item": item}))
        got = one({"op": "get", "table": TABLE, "key": {"id": S("img-round")}, "consistent_read": True})
        self.assertOk(got)
        self.assertEqual(got["output"]["Item"], item)
        self.assertEqual(self.db.get_item(TableName=TABLE, Key={"id": S("img-round")}, ConsistentRead=True)["Item"], item)
        missing = one({"op": "get", "table": TABLE, "key": {"id": S("img-none")}, "consistent_read": True})
        self.assertOk(missing)
        self.assertNotIn("Item", missing["output"])

    def test_conditional_put_refuses_a_second_writer(self):
        first = {"op": "put", "table": TABLE, "item": record("job-idem", "key-1", 1, status=S("queued")),
                 "condition": "attribute_not_exists(id)"}
        second = dict(first, item=record("job-idem", "key-2", 2, status=S("queued")))
        a, b = run(first, second)
        self.assertOk(a)
        self.assertEqual(b["err"], "aws", b)
        self.assertEqual(b["status"], 400)
        self.assertEqual(b["error_type"], "ConditionalCheckFailedException")
        self.assertIn("conditional request failed", b["message"])
        self.assertEqual(b["attempts"], 1)
        self.assertEqual(b["stop"], "not retryable")
        self.assertEqual(self.db.get_item(TableName=TABLE, Key={"id": S("job-idem")})["Item"]["owner"], S("key-1"))

    def test_conditional_update_succeeds_then_fails(self):
        self.assertOk(one({"op": "put", "table": TABLE, "item": record("job-upd", "key-1", 5, status=S("queued"))}))
        move = {"op": "update", "table": TABLE, "key": {"id": S("job-upd")},
                "update": "SET #s = :to, attempts = if_not_exists(attempts, :zero) + :one",
                "condition": "#s = :from", "names": {"#s": "status"},
                "values": {":from": S("queued"), ":to": S("running"), ":zero": N(0), ":one": N(1)},
                "return_values": "ALL_NEW"}
        ok, again = run(move, move)
        self.assertOk(ok)
        self.assertEqual(ok["output"]["Attributes"]["status"], S("running"))
        self.assertEqual(ok["output"]["Attributes"]["attempts"], N(1))
        # The same move again: the job is no longer queued.
        self.assertEqual(again["err"], "aws", again)
        self.assertEqual(again["error_type"], "ConditionalCheckFailedException")
        self.assertEqual(again["attempts"], 1)
        item = self.db.get_item(TableName=TABLE, Key={"id": S("job-upd")}, ConsistentRead=True)["Item"]
        self.assertEqual(item["status"], S("running"))
        self.assertEqual(item["attempts"], N(1))
        # UPDATED_OLD returns what the update replaced.
        old = one({"op": "update", "table": TABLE, "key": {"id": S("job-upd")}, "update": "SET #s = :s",
                   "names": {"#s": "status"}, "values": {":s": S("succeeded")}, "return_values": "UPDATED_OLD"})
        self.assertOk(old)
        self.assertEqual(old["output"]["Attributes"], {"status": S("running")})

    def test_query_pages_newest_first_without_gaps_or_repeats(self):
        owner = "key-pages"
        puts = [{"op": "put", "table": TABLE, "item": record("page-%02d" % i, owner, 1000 + i)} for i in range(1, 12)]
        puts.append({"op": "put", "table": TABLE, "item": record("page-other", "key-someone-else", 1005)})
        for answer in run(*puts):
            self.assertOk(answer)
        seen, pages, start = [], [], None
        for _ in range(10):
            q = {"op": "query", "table": TABLE, "index": INDEX, "key_condition": "#o = :o",
                 "names": {"#o": "owner"}, "values": {":o": S(owner)}, "descending": True, "limit": 4}
            if start is not None:
                q["exclusive_start_key"] = start
            page = one(q)
            self.assertOk(page)
            ids = [it["id"]["S"] for it in page["output"]["Items"]]
            pages.append(ids)
            seen.extend(ids)
            start = page["output"].get("LastEvaluatedKey")
            if start is None:
                break
            # The key names the index's key and the table's.
            self.assertEqual(set(start), {"id", "owner", "created"})
        self.assertEqual(seen, ["page-%02d" % i for i in range(11, 0, -1)])
        self.assertEqual([len(p) for p in pages], [4, 4, 3])
        # botocore, asked the same, pages the same way.
        theirs, start = [], None
        while True:
            kw = {"TableName": TABLE, "IndexName": INDEX, "KeyConditionExpression": "#o = :o",
                  "ExpressionAttributeNames": {"#o": "owner"}, "ExpressionAttributeValues": {":o": S(owner)},
                  "ScanIndexForward": False, "Limit": 4}
            if start:
                kw["ExclusiveStartKey"] = start
            r = self.db.query(**kw)
            theirs.append([it["id"]["S"] for it in r["Items"]])
            start = r.get("LastEvaluatedKey")
            if not start:
                break
        self.assertEqual(theirs, pages)

    def test_query_on_the_table_key_oldest_first(self):
        self.assertOk(one({"op": "put", "table": TABLE, "item": record("solo", "key-solo", 7)}))
        r = one({"op": "query", "table": TABLE, "key_condition": "id = :id", "values": {":id": S("solo")},
                 "consistent_read": True})
        self.assertOk(r)
        self.assertEqual(r["output"]["Count"], 1)
        self.assertEqual(r["output"]["Items"][0]["owner"], S("key-solo"))

    def test_missing_table_is_resource_not_found(self):
        for cmd in ({"op": "get", "table": "no-such-table", "key": {"id": S("x")}},
                    {"op": "put", "table": "no-such-table", "item": {"id": S("x")}}):
            r = one(cmd)
            self.assertEqual(r["err"], "aws", r)
            self.assertEqual(r["status"], 400)
            self.assertEqual(r["error_type"], "ResourceNotFoundException")
            self.assertTrue(r["message"], r)
            self.assertEqual(r["attempts"], 1)
            self.assertEqual(r["stop"], "not retryable")

    def test_invalid_item_is_a_validation_error(self):
        r = one({"op": "put", "table": TABLE, "item": {"owner": S("key-1")}})
        self.assertEqual(r["err"], "aws", r)
        self.assertEqual(r["error_type"], "ValidationException")
        self.assertIn("key", r["message"].lower())
        self.assertEqual(r["attempts"], 1)

    def test_any_operation_through_the_generic_call(self):
        r = one({"op": "call", "operation": "DescribeTable", "input": {"TableName": TABLE}})
        self.assertOk(r)
        table = r["output"]["Table"]
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual([g["IndexName"] for g in table["GlobalSecondaryIndexes"]], [INDEX])


if __name__ == "__main__":
    if not os.path.exists(CLI):
        raise SystemExit("%s is missing: build the tests/tools targets first" % CLI)
    with Dynalite() as SERVER:
        result = unittest.main(exit=False, verbosity=2).result
    print("dynamodb_dynalite: %d passed, %d failed" % (result.testsRun - len(result.failures) - len(result.errors),
                                                       len(result.failures) + len(result.errors)))
    sys.exit(0 if result.wasSuccessful() else 1)
