#!/usr/bin/env python3
"""Reads a relais hub as a partner hub would, with the OASIS `taxii2-client`.

Over mutual TLS with the peer's certificate: discovery, its default API root, the collections
listed there, then every page of one collection through `as_pages`. Prints a JSON summary on
stdout for the caller (tests/integration/federation_clients.rs) to compare with what relais
should release to that peer; the script judges only what a client can judge on its own
(paging is well formed, no object twice).

With --no-cert it reads discovery without a client certificate instead: the hub must refuse
the handshake, and the summary says how the client saw the refusal.

Usage:
  peer_read_check.py --discovery URL --ca CA.pem --cert CERT.pem --key KEY.pem \
      --collection ID [--per-request N]
  peer_read_check.py --discovery URL --ca CA.pem --no-cert

Exit status: 0 when every check passed, 1 on a failed check (the message says which),
2 on bad arguments or missing packages.
"""

import argparse
import json
import os
import sys
import traceback

try:
    import requests
    from taxii2client.v21 import Server, as_pages
except ImportError as e:  # pragma: no cover - environment problem, not a relais problem
    print(f"missing Python package: {e} (pip install taxii2-client)", file=sys.stderr)
    sys.exit(2)


class CheckFailed(Exception):
    """A check about relais's behaviour did not hold."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def read_as_peer(args):
    server = Server(args.discovery, verify=args.ca, cert=(args.cert, args.key))
    check(server.title, "discovery: no title")
    api_root = server.default
    check(api_root is not None, f"discovery: no default API root among {server.api_roots}")
    listed = [
        {"id": c.id, "title": c.title, "can_read": c.can_read, "can_write": c.can_write}
        for c in api_root.collections
    ]
    wanted = [c for c in api_root.collections if c.id == args.collection]
    check(wanted, f"collection {args.collection} is not listed for this peer: {listed}")
    collection = wanted[0]
    check(collection.can_read, f"collection {collection.id}: can_read is false")

    ids, sizes = [], []
    for n, page in enumerate(as_pages(collection.get_objects, per_request=args.per_request)):
        check(n < 1000, "more than 1000 pages: `next` does not advance")
        objects = page.get("objects", [])
        check(isinstance(objects, list), f"page {n + 1}: 'objects' is not a list")
        if page.get("more", False):
            check(page.get("next"), f"page {n + 1}: more=true without next")
        sizes.append(len(objects))
        ids.extend(o["id"] for o in objects)
    check(len(ids) == len(set(ids)), f"an object came twice: {ids}")
    return {
        "api_root": api_root.url,
        "collections": listed,
        "ids": sorted(ids),
        "page_sizes": sizes,
    }


def read_without_certificate(args):
    try:
        title = Server(args.discovery, verify=args.ca).title
    except (requests.exceptions.SSLError, requests.exceptions.ConnectionError) as e:
        # TLS 1.3 sends the server's "certificate required" alert after the client's
        # Finished: requests sees it as an SSL error or as a reset connection.
        return {"refused": f"{type(e).__name__}: {e}"}
    raise CheckFailed(f"discovery answered without a client certificate (title {title!r})")


def package_versions():
    from importlib.metadata import version
    return {p: version(p) for p in ("taxii2-client", "requests")}


def main():
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the CA a session was given
    # (psf/requests#4726); the hub's CA is the only trust anchor here.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--discovery", required=True, help="discovery URL, …/taxii2/")
    p.add_argument("--ca", required=True, help="the hub's CA certificate (PEM)")
    p.add_argument("--cert", help="the peer's client certificate (PEM)")
    p.add_argument("--key", help="the peer's client key (PEM)")
    p.add_argument("--collection", help="the collection to page through")
    p.add_argument("--per-request", type=int, default=1, help="page size for as_pages")
    p.add_argument("--no-cert", action="store_true",
                   help="read discovery without a certificate; the handshake must fail")
    args = p.parse_args()
    if not args.no_cert:
        missing = [n for n in ("cert", "key", "collection") if not getattr(args, n)]
        if missing:
            p.error("missing: " + ", ".join("--" + m for m in missing))
    if args.per_request < 1:
        p.error("--per-request must be positive")

    try:
        summary = read_without_certificate(args) if args.no_cert else read_as_peer(args)
    except CheckFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    except requests.exceptions.HTTPError as e:
        r = e.response
        print(f"FAILED: HTTP {r.status_code} for {r.request.method} {r.url}\n"
              f"response body: {r.text[:2000]}", file=sys.stderr)
        return 1
    except Exception as e:  # the client's own checks (ValidationError, TAXIIServiceException…)
        print(f"FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        traceback.print_exc()
        return 1
    summary["packages"] = package_versions()
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
