#!/usr/bin/env python3
"""Posts a TAXII envelope larger than the hub's max_content_length and reports what the
client read, for tests/integration/body_limit.rs.

`requests` (urllib3), and so the OASIS `taxii2-client`, send the whole body before they read
the answer: the hub must still be there to answer when they are done. The script posts the
same body --repeat times on one session, then reads the API root, and prints a JSON summary:
each answer's status, Content-Type, Connection header and JSON body (or the error that came
instead), and how many TLS connections urllib3 opened, so the caller can tell whether the
connection was kept alive.

Usage:
  oversized_post.py --collection-url URL/collections/ID/ --ca CA.pem --cert CERT.pem --key KEY.pem \
      --bytes N [--repeat K] [--client requests|taxii2-client]

Exit status: 0 when the summary was printed (whatever it says), 2 on bad arguments or
missing packages.
"""

import argparse
import json
import os
import sys

try:
    import requests
    import urllib3.connection
    from taxii2client.v21 import Collection
except ImportError as e:  # pragma: no cover - environment problem, not a relais problem
    print(f"missing Python package: {e} (pip install taxii2-client)", file=sys.stderr)
    sys.exit(2)

TAXII_21 = "application/taxii+json;version=2.1"

# The environment may name another CA bundle; the hub's CA is the only trust anchor here.
os.environ.pop("REQUESTS_CA_BUNDLE", None)
os.environ.pop("CURL_CA_BUNDLE", None)

opened = 0
_connect = urllib3.connection.HTTPSConnection.connect


def _counting_connect(self):
    global opened
    opened += 1
    return _connect(self)


urllib3.connection.HTTPSConnection.connect = _counting_connect


def envelope(size):
    """A well-formed envelope of `size` bytes (one indicator with a long description)."""
    head = ('{"objects":[{"type":"indicator","spec_version":"2.1",'
            '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",'
            '"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",'
            '"pattern":"[ipv4-addr:value = \'198.51.100.1\']","pattern_type":"stix",'
            '"valid_from":"2026-01-01T00:00:00Z","description":"')
    tail = '"}]}'
    return (head + "x" * max(0, size - len(head) - len(tail)) + tail).encode()


def answer(response):
    try:
        body = response.json()
    except ValueError:
        body = response.text[:200]
    return {
        "status": response.status_code,
        "content_type": response.headers.get("Content-Type"),
        "connection": response.headers.get("Connection"),
        "body": body,
    }


def failure(e):
    return {"error": f"{type(e).__name__}: {e}"[:300]}


def post_with_requests(session, url, body):
    try:
        return answer(session.post(url, data=body, headers={
            "Accept": TAXII_21, "Content-Type": TAXII_21}))
    except requests.RequestException as e:
        return failure(e)


def post_with_taxii2_client(collection, body):
    try:
        collection.add_objects(body, wait_for_completion=False)
        return {"error": "the oversized envelope was accepted"}
    except requests.HTTPError as e:
        return answer(e.response)
    except requests.RequestException as e:
        return failure(e)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--collection-url", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--client", choices=["requests", "taxii2-client"], default="requests")
    args = p.parse_args()

    body = envelope(args.bytes)
    session = requests.Session()
    session.verify = args.ca
    session.cert = (args.cert, args.key)
    collection = None
    if args.client == "taxii2-client":
        collection = Collection(args.collection_url, verify=args.ca, cert=(args.cert, args.key))
        # Reads the collection (can_write) before posting, and posts on its own session.
        collection.refresh()
        session = collection._conn.session
    answers = []
    for _ in range(args.repeat):
        if collection is None:
            answers.append(post_with_requests(session, args.collection_url + "objects/", body))
        else:
            answers.append(post_with_taxii2_client(collection, body))
    api_root = args.collection_url.split("collections/")[0]
    try:
        after = session.get(api_root, headers={"Accept": TAXII_21}).status_code
    except requests.RequestException as e:
        after = failure(e)
    print(json.dumps({"answers": answers, "after": after, "connections": opened}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
