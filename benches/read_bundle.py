#!/usr/bin/env python3
"""Posts a STIX bundle to a hub's community collection as the demo analyst, then times whole
reads of the collection (BENCHMARKS.md, "The reference rule").

  read_bundle.py DATA_DIR PORT BUNDLE.json [--walks 8]

Marking definitions are posted first, in envelopes of 1,000 objects. Needs `requests`; unset
REQUESTS_CA_BUNDLE so that the hub's CA is the one trusted.
"""
import argparse
import json
import os
import time

import requests

TAXII = "application/taxii+json;version=2.1"
COMMUNITY = "9cfa669c-ee94-4ece-afd2-f8edac37d8fd"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data")
    p.add_argument("port")
    p.add_argument("bundle")
    p.add_argument("--walks", type=int, default=8)
    args = p.parse_args()
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    s = requests.Session()
    demo = f"{args.data}/certs/demo"
    s.cert = (f"{demo}/csirt-analyst.pem", f"{demo}/csirt-analyst-key.pem")
    s.verify = f"{args.data}/certs/ca.pem"
    base = f"https://127.0.0.1:{args.port}/taxii2/api/collections/{COMMUNITY}/objects/"
    with open(args.bundle) as f:
        objects = json.load(f)["objects"]
    objects.sort(key=lambda o: o["type"] != "marking-definition")
    stored = 0
    for i in range(0, len(objects), 1000):
        r = s.post(base, data=json.dumps({"objects": objects[i:i + 1000]}),
                   headers={"Accept": TAXII, "Content-Type": TAXII})
        r.raise_for_status()
        stored += r.json()["success_count"]
    print(f"stored {stored} of {len(objects)}")
    rates = []
    for _ in range(args.walks):
        n, after, start = 0, "", time.time()
        while True:
            page = s.get(base + "?limit=1000" + after, headers={"Accept": TAXII}).json()
            n += len(page.get("objects", []))
            if not page.get("more"):
                break
            after = "&next=" + page["next"]
        rates.append(n / (time.time() - start))
    rates.sort()
    print(f"read {n} objects: median {rates[len(rates) // 2]:.0f}/s "
          f"(min {rates[0]:.0f}, max {rates[-1]:.0f})")


if __name__ == "__main__":
    main()
