#!/usr/bin/env python3
"""Objects that wait for a marking definition, seen through the OASIS taxii2-client.

  pending_check.py --collection URL --ca CA.pem --cert CERT.pem --key KEY.pem

Posts, in order, an envelope of indicators citing a statement marking definition the hub has
not seen, then the definition itself, as ATT&CK bundles do; checks with the client's own
status calls that the first envelope is pending, then complete once the definition arrived,
and that every object reads back. Then an envelope of refused objects: each failure names the
id and version sent, or the position of an object without id (TAXII 2.1 § 4.3.1). Prints a
JSON summary; exits non-zero on any failure.
"""
import argparse
import json
import os
import sys
import uuid

from taxii2client.v21 import Collection

STATEMENT = f"marking-definition--{uuid.uuid4()}"


def indicator(n):
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-05-01T00:00:00.000Z", "modified": "2026-05-01T00:00:00.000Z",
        "name": f"pending check {n}", "pattern": f"[ipv4-addr:value = '185.220.101.{n}']",
        "pattern_type": "stix", "valid_from": "2026-05-01T00:00:00Z",
        "object_marking_refs": [STATEMENT],
    }


def fail(message):
    print(json.dumps({"error": message}))
    sys.exit(1)


def main():
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("collection", "ca", "cert", "key"):
        p.add_argument(f"--{name}", required=True)
    args = p.parse_args()
    collection = Collection(args.collection, verify=args.ca, cert=(args.cert, args.key))
    first = [indicator(n) for n in range(1, 6)]
    status = collection.add_objects({"objects": first}, wait_for_completion=False)
    summary = {"first": {"status": status.status, "pending_count": status.pending_count,
                         "success_count": status.success_count}}
    if status.status != "pending" or status.pending_count != len(first):
        fail(f"first envelope: {summary['first']}")
    definition = {
        "type": "marking-definition", "spec_version": "2.1", "id": STATEMENT,
        "created": "2026-05-01T00:00:00.000Z", "definition_type": "statement",
        "definition": {"statement": "Copyright the test"},
    }
    last = collection.add_objects({"objects": [definition]})
    summary["definition"] = {"status": last.status, "success_count": last.success_count}
    # The client's own polling: the first envelope completes once the definition is in.
    status.wait_until_final(poll_interval=1, timeout=30)
    summary["first_final"] = {"status": status.status, "success_count": status.success_count,
                              "pending_count": status.pending_count,
                              "failure_count": status.failure_count,
                              "successes": sorted(s["id"] for s in status.successes)}
    if status.status != "complete" or status.success_count != len(first):
        fail(f"first envelope after the definition: {summary['first_final']}")
    read = {o["id"] for o in collection.get_objects().get("objects", [])}
    missing = sorted(o["id"] for o in first if o["id"] not in read)
    if missing:
        fail(f"not readable after completion: {missing}")
    summary["read_back"] = len(first)

    invalid = indicator(9)
    del invalid["pattern_type"]
    unnamed = {"type": "indicator", "spec_version": "2.1"}
    refused = collection.add_objects({"objects": [invalid, unnamed]})
    failures = refused.failures
    summary["failures"] = failures
    if refused.failure_count != 2 or len(failures) != 2:
        fail(f"refused envelope: {failures}")
    if (failures[0].get("id"), failures[0].get("version")) != (invalid["id"], invalid["modified"]):
        fail(f"a failure without the id and version sent: {failures[0]}")
    if "id" in failures[1] or not failures[1].get("message", "").startswith("object 2 of the envelope"):
        fail(f"an object without id is not named by its position: {failures[1]}")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
