#!/usr/bin/env python3
"""Drives a relais hub with third-party TAXII 2.1 / STIX 2.1 clients.

The OASIS `taxii2-client` talks to the hub over mutual TLS, `stix2` builds what is posted,
and `stix2-validator` checks every object the hub returns. The script checks what a client
can check on its own (paging agrees with one big read, filters agree with the full set,
every object validates, hidden ids never show) and prints a JSON summary on stdout for the
caller (tests/integration/python_clients.rs) to compare with what relais should release.

Usage:
  taxii_client_check.py --discovery URL --ca CA.pem --cert CERT.pem --key KEY.pem \
      --collection ID [--mode read|write|delete] [--per-request N] [--hidden-id ID ...] \
      [--expect-api-root URL]
  taxii_client_check.py --mode every-reader --discovery URL --ca CA.pem \
      --originals POSTED.json --reader NAME CERT.pem KEY.pem [--reader ...] [--per-request N]

every-reader: each reader reads every collection it may (all versions) and every object it
receives must be valid for stix2-validator and stix2 unless the version posted was not: the
hub may withhold objects or take parts away, never leave an object broken. The summary gives,
per reader and collection, the ids received and the objects received cut.

Each option can also come from the environment: RELAIS_TAXII_DISCOVERY, RELAIS_TAXII_CA,
RELAIS_TAXII_CERT, RELAIS_TAXII_KEY, RELAIS_TAXII_COLLECTION, RELAIS_TAXII_MODE,
RELAIS_TAXII_PER_REQUEST.

Exit status: 0 when every check passed, 1 on a failed check (the message says which),
2 on bad arguments or missing packages.
"""

import argparse
import datetime
import json
import os
import sys
import traceback
import uuid

try:
    import requests
    import stix2
    import stix2validator
    from taxii2client.v21 import Collection, Server, as_pages
except ImportError as e:  # pragma: no cover - environment problem, not a relais problem
    print(f"missing Python package: {e} (pip install taxii2-client stix2 stix2-validator)",
          file=sys.stderr)
    sys.exit(2)

TAXII_21 = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"


class CheckFailed(Exception):
    """A check about relais's behaviour did not hold."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def parse_ts(text):
    """A STIX/TAXII timestamp as an aware datetime (microsecond precision)."""
    check(isinstance(text, str) and text.endswith("Z"), f"not a UTC timestamp: {text!r}")
    body = text[:-1]
    if "." in body:
        whole, frac = body.split(".", 1)
        body = whole + "." + (frac + "000000")[:6]
    else:
        body += ".000000"
    return datetime.datetime.strptime(body, "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc)


def http_status(call):
    """Runs `call`; the HTTP status of the error it raised, or 200 if it returned."""
    try:
        call()
        return 200
    except requests.exceptions.HTTPError as e:
        return e.response.status_code


class Validator:
    """Validates objects with stix2-validator and parses them with stix2."""

    def __init__(self):
        self.options = stix2validator.ValidationOptions(version="2.1")
        self.validated = 0
        self.warnings = []

    def __call__(self, obj, where):
        result = stix2validator.validate_instance(obj, self.options)
        if not result.is_valid:
            errors = "; ".join(str(e) for e in result.errors)
            raise CheckFailed(f"{where}: {obj.get('id')} is not valid STIX 2.1: {errors}")
        for w in result.warnings or []:
            self.warnings.append(f"{obj.get('id')}: {w}")
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except Exception as e:  # stix2 raises many exception types
            raise CheckFailed(f"{where}: stix2 cannot parse {obj.get('id')}: {e}") from e
        self.validated += 1


def envelope_objects(envelope, where):
    check(isinstance(envelope, dict), f"{where}: the envelope is not a JSON object")
    check(isinstance(envelope.get("more", False), bool), f"{where}: 'more' is not a boolean")
    objects = envelope.get("objects", [])
    check(isinstance(objects, list), f"{where}: 'objects' is not a list")
    if "objects" in envelope:
        check(objects, f"{where}: 'objects' is present but empty (TAXII 2.1 omits it)")
    return objects


def read_all_pages(func, per_request, where, **filters):
    """`as_pages` over `func`; (page sizes, items, mores, nexts)."""
    sizes, items, mores = [], [], []
    for n, page in enumerate(as_pages(func, per_request=per_request, **filters)):
        check(n < 1000, f"{where}: more than 1000 pages; `next` does not advance")
        objs = envelope_objects(page, f"{where} page {n + 1}")
        more = page.get("more", False)
        if more:
            check(page.get("next"), f"{where} page {n + 1}: more=true without next")
        sizes.append(len(objs))
        mores.append(more)
        items.extend(objs)
    return sizes, items, mores


def find_collection(api_root, wanted):
    for c in api_root.collections:
        if c.id == wanted:
            return c
    raise CheckFailed(f"collection {wanted} is not in the caller's collection list")


def check_basics(args, summary):
    server = Server(args.discovery, verify=args.ca, cert=(args.cert, args.key))
    check(server.title, "discovery: no title")
    roots = server.api_roots
    check(len(roots) >= 1, "discovery: no api_roots")
    check(server.default is not None, "discovery: 'default' is not one of api_roots")
    api_root = server.default
    check(api_root.url.endswith("/"), f"discovery: API root URL without trailing slash: {api_root.url}")
    if args.expect_api_root:
        check([r.url for r in roots] == [args.expect_api_root]
              and api_root.url == args.expect_api_root,
              f"discovery: api_roots {[r.url for r in roots]}, default {api_root.url}; "
              f"expected {args.expect_api_root}")
    # Follow every API root to where discovery says it is (not where discovery was read): a
    # URL built from the request's Host, or without the listener's port, fails here.
    for r in roots:
        r.refresh()
        check(r.title and TAXII_21 in r.versions,
              f"API root {r.url} (from api_roots): title {r.title!r}, versions {r.versions}")
    summary["discovery"] = {
        "title": server.title,
        "api_roots": [r.url for r in roots],
        "default": api_root.url,
        "followed": len(roots),
    }
    check(TAXII_21 in api_root.versions, f"API root versions {api_root.versions} lack {TAXII_21}")
    check(isinstance(api_root.max_content_length, int) and api_root.max_content_length > 0,
          f"API root max_content_length {api_root.max_content_length!r}")
    summary["api_root"] = {
        "title": api_root.title,
        "versions": api_root.versions,
        "max_content_length": api_root.max_content_length,
    }
    summary["collections"] = []
    for c in api_root.collections:
        check(c.media_types == [] or STIX_21 in c.media_types,
              f"collection {c.id}: media_types {c.media_types} lack {STIX_21}")
        summary["collections"].append({
            "id": c.id,
            "title": c.title,
            "can_read": c.can_read,
            "can_write": c.can_write,
        })
    collection = find_collection(api_root, args.collection)
    # A collection built directly from its URL (as a user would) agrees with the list.
    direct = Collection(collection.url, verify=args.ca, cert=(args.cert, args.key))
    check((direct.id, direct.can_read, direct.can_write)
          == (collection.id, collection.can_read, collection.can_write),
          "Get a Collection disagrees with Get Collections")
    direct.close()
    return server, api_root, collection


def check_read(args, collection, validate, summary):
    where = f"collection {collection.id}"
    check(collection.can_read, f"{where}: can_read is false for this principal")

    # The whole collection, by pages of the size asked for, then by the server's default.
    sizes, paged, mores = read_all_pages(collection.get_objects, args.per_request,
                                         f"{where} objects (per_request={args.per_request})")
    _, whole, whole_mores = read_all_pages(collection.get_objects, 0, f"{where} objects")
    for o in paged:
        validate(o, f"{where} objects")
    keys = [(o["id"], o.get("modified", o.get("created"))) for o in paged]
    check(len(keys) == len(set(keys)), f"{where}: an object version appears on two pages")
    check(sorted(keys) == sorted((o["id"], o.get("modified", o.get("created"))) for o in whole),
          f"{where}: reading by pages of {args.per_request} and in one go disagree")
    check(all(s <= args.per_request for s in sizes),
          f"{where}: a page is larger than limit={args.per_request}: {sizes}")
    check(not mores[-1], f"{where}: the last page says more=true")
    ids = sorted({o["id"] for o in paged})
    summary["objects"] = {
        "page_sizes": sizes,
        "pages_with_more": sum(mores),
        "count": len(paged),
        "default_read_pages": len(whole_mores),
        "ids": ids,
        "types": sorted({o["type"] for o in paged}),
    }
    hidden = set(args.hidden_id)
    leaked = hidden.intersection(ids)
    check(not leaked, f"{where}: hidden ids were returned: {sorted(leaked)}")

    # match[type]
    by_type = {}
    for t in sorted({o["type"] for o in paged}) + ["x-relais-no-such-type"]:
        _, got, _ = read_all_pages(collection.get_objects, args.per_request,
                                   f"{where} type={t}", type=t)
        check(all(o["type"] == t for o in got), f"{where}: type={t} returned other types")
        expected = sum(1 for o in paged if o["type"] == t)
        check(len(got) == expected, f"{where}: type={t} returned {len(got)}, expected {expected}")
        by_type[t] = len(got)
    summary["filters"] = {"type": by_type}
    # match[spec_version]: relais holds STIX 2.1 only.
    _, v21, _ = read_all_pages(collection.get_objects, args.per_request,
                               f"{where} spec_version=2.1", spec_version="2.1")
    check(len(v21) == len(paged), f"{where}: spec_version=2.1 returned {len(v21)} of {len(paged)}")
    v20 = collection.get_objects(spec_version="2.0")
    check(not envelope_objects(v20, f"{where} spec_version=2.0"),
          f"{where}: spec_version=2.0 returned objects")

    # match[id], get_object, object_versions, each version by match[version]
    versions_of = {}
    if ids:
        probes = [ids[0], ids[len(ids) // 2], ids[-1]]
        both = collection.get_objects(id=",".join(probes[:2]))
        got = envelope_objects(both, f"{where} id=a,b")
        check(sorted({o["id"] for o in got}) == sorted(set(probes[:2])),
              f"{where}: id=a,b returned {[o['id'] for o in got]}")
        for oid in sorted(set(probes)):
            env = collection.get_objects(id=oid)
            got = envelope_objects(env, f"{where} id={oid}")
            check([o["id"] for o in got] == [oid], f"{where}: id={oid} returned {len(got)} objects")
            one = envelope_objects(collection.get_object(oid), f"{where} get_object {oid}")
            check(len(one) == 1 and one[0] == got[0],
                  f"{where}: get_object {oid} disagrees with id={oid}")
            validate(one[0], f"{where} get_object")
            vers = collection.object_versions(oid)
            check(isinstance(vers.get("versions"), list) and vers["versions"],
                  f"{where}: object_versions {oid} has no versions")
            check(not vers.get("more", False), f"{where}: object_versions {oid} more=true")
            latest = max(vers["versions"], key=parse_ts)
            check(parse_ts(latest) == parse_ts(one[0].get("modified", one[0].get("created"))),
                  f"{where}: get_object {oid} is not the latest of {vers['versions']}")
            for v in vers["versions"]:
                at = envelope_objects(collection.get_object(oid, version=v),
                                      f"{where} {oid} version={v}")
                check(len(at) == 1 and parse_ts(at[0]["modified"]) == parse_ts(v),
                      f"{where}: {oid} version={v} returned {[o.get('modified') for o in at]}")
                validate(at[0], f"{where} version")
            all_versions = envelope_objects(collection.get_object(oid, version="all"),
                                            f"{where} {oid} version=all")
            check(len(all_versions) == len(vers["versions"]),
                  f"{where}: {oid} version=all gave {len(all_versions)} of "
                  f"{len(vers['versions'])} versions")
            first = envelope_objects(collection.get_object(oid, version="first"),
                                     f"{where} {oid} version=first")
            check(parse_ts(first[0]["modified"]) == min(parse_ts(v) for v in vers["versions"]),
                  f"{where}: {oid} version=first is not the earliest")
            versions_of[oid] = vers["versions"]
    summary["versions"] = versions_of

    # Manifest, by pages: the same objects, with versions and dates.
    msizes, manifest, _ = read_all_pages(collection.get_manifest, args.per_request,
                                         f"{where} manifest")
    for r in manifest:
        for field in ("id", "date_added", "version"):
            check(r.get(field), f"{where}: manifest record without {field}: {r}")
        check(r.get("media_type", STIX_21) == STIX_21,
              f"{where}: manifest media_type {r.get('media_type')}")
    check(sorted((r["id"], parse_ts(r["version"])) for r in manifest)
          == sorted((i, parse_ts(v)) for i, v in keys),
          f"{where}: the manifest lists other objects than get_objects")
    summary["manifest"] = {"page_sizes": msizes, "count": len(manifest)}

    # added_after: the objects added after the middle one's date_added, by the manifest.
    if manifest:
        dates = sorted({parse_ts(r["date_added"]) for r in manifest})
        pivot_dt = dates[len(dates) // 2]
        pivot = next(r["date_added"] for r in manifest if parse_ts(r["date_added"]) == pivot_dt)
        expected = sorted(r["id"] for r in manifest if parse_ts(r["date_added"]) > pivot_dt)
        _, after, _ = read_all_pages(collection.get_objects, args.per_request,
                                     f"{where} added_after={pivot}", added_after=pivot)
        got = sorted(o["id"] for o in after)
        check(got == expected,
              f"{where}: added_after={pivot} (a date_added the manifest gave) returned "
              f"{len(got)} objects, expected the {len(expected)} added strictly later; "
              f"unexpected: {sorted(set(got) - set(expected))[:5]}")
        last = max(dates)
        last_text = next(r["date_added"] for r in manifest if parse_ts(r["date_added"]) == last)
        _, none_after, _ = read_all_pages(collection.get_objects, args.per_request,
                                          f"{where} added_after={last_text}",
                                          added_after=last_text)
        check(not none_after,
              f"{where}: added_after={last_text} (the latest date_added) returned "
              f"{[o['id'] for o in none_after]}")
        future = collection.get_objects(added_after="2100-01-01T00:00:00Z")
        check(not envelope_objects(future, f"{where} added_after=2100"),
              f"{where}: added_after=2100 returned objects")
        summary["filters"]["added_after"] = {"pivot": pivot, "count": len(got)}

    # X-TAXII-Date-Added-First/-Last (not exposed by taxii2-client: read through its own
    # session), and resuming a read with added_after=X-TAXII-Date-Added-Last, as TAXII 2.1
    # TAXII 2.1 describes for polling a collection.
    if manifest:
        session = collection._conn.session
        resp = session.get(collection.objects_url, headers={"Accept": TAXII_21},
                           params={"limit": args.per_request})
        resp.raise_for_status()
        first_page = envelope_objects(resp.json(), f"{where} raw first page")
        added = {r["id"]: parse_ts(r["date_added"]) for r in manifest}
        header_first = resp.headers.get("X-TAXII-Date-Added-First")
        header_last = resp.headers.get("X-TAXII-Date-Added-Last")
        check(header_first and header_last,
              f"{where}: a page of objects without X-TAXII-Date-Added-First/-Last: "
              f"{dict(resp.headers)}")
        check(parse_ts(header_first) == min(added[o["id"]] for o in first_page)
              and parse_ts(header_last) == max(added[o["id"]] for o in first_page),
              f"{where}: X-TAXII-Date-Added-First/-Last {header_first}/{header_last} disagree "
              f"with the manifest's date_added of the page")
        _, rest, _ = read_all_pages(collection.get_objects, args.per_request,
                                    f"{where} added_after=X-TAXII-Date-Added-Last",
                                    added_after=header_last)
        resumed = sorted([o["id"] for o in first_page] + [o["id"] for o in rest])
        check(resumed == sorted(o["id"] for o in paged),
              f"{where}: first page + added_after={header_last} gave {len(resumed)} objects "
              f"(duplicates: {len(resumed) - len(set(resumed))}), expected {len(paged)}")
        summary["date_headers"] = {"first": header_first, "last": header_last}

    # Hidden ids answer like missing ones.
    missing = f"indicator--{uuid.uuid4()}"
    for oid in sorted(hidden) + [missing]:
        for name, call in [
            ("get_object", lambda oid=oid: collection.get_object(oid)),
            ("object_versions", lambda oid=oid: collection.object_versions(oid)),
        ]:
            status = http_status(call)
            check(status == 404, f"{where}: {name} {oid} answered {status}, expected 404")
        env = collection.get_objects(id=oid)
        check(not envelope_objects(env, f"{where} id={oid}"),
              f"{where}: id={oid} (hidden or missing) returned objects")
    summary["hidden_checked"] = len(hidden)


def stix_objects(now):
    """An indicator with a STIX pattern, a malware and the relationship between them, all
    TLP:GREEN (stix2's TLP_GREEN is the TLP 1.0 definition)."""
    indicator = stix2.Indicator(
        name="relais interop: taxii2-client indicator",
        pattern="[ipv4-addr:value = '45.153.160.7'] OR [domain-name:value = 'relais.example']",
        pattern_type="stix",
        valid_from=now,
        indicator_types=["malicious-activity"],
        object_marking_refs=[stix2.TLP_GREEN],
    )
    malware = stix2.Malware(
        name="relais interop: taxii2-client malware",
        is_family=False,
        object_marking_refs=[stix2.TLP_GREEN],
    )
    relationship = stix2.Relationship(
        indicator, "indicates", malware, object_marking_refs=[stix2.TLP_GREEN])
    return indicator, malware, relationship


def as_dicts(objects):
    return [json.loads(o.serialize()) for o in objects]


def check_status(status, posted, where):
    check(status.id, f"{where}: status without id")
    check(status.status == "complete", f"{where}: status {status.status!r} after polling")
    check(status.request_timestamp, f"{where}: status without request_timestamp")
    check(status.total_count == len(posted),
          f"{where}: total_count {status.total_count}, posted {len(posted)}")
    check((status.success_count, status.failure_count, status.pending_count)
          == (len(posted), 0, 0),
          f"{where}: success/failure/pending = {status.success_count}/"
          f"{status.failure_count}/{status.pending_count}; failures: {status.failures}")
    got = sorted((s["id"], parse_ts(s["version"])) for s in status.successes)
    want = sorted((o["id"], parse_ts(o["modified"])) for o in posted)
    check(got == want, f"{where}: successes {status.successes} are not what was posted")


def check_write(args, api_root, collection, validate, summary):
    where = f"collection {collection.id}"
    check(collection.can_write, f"{where}: can_write is false for this principal")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    indicator, malware, relationship = stix_objects(now)
    first = as_dicts([indicator, malware, relationship])
    for o in first:
        validate(o, "what stix2 built")

    # 1. Add Objects without waiting, then poll: through the URL the client derives from the
    # collection's (status.refresh via wait_until_final) and through ApiRoot.get_status.
    status = collection.add_objects({"objects": first}, wait_for_completion=False)
    initial = status._raw
    check(status.url == api_root.url + "status/" + status.id + "/",
          f"{where}: the client derived the status URL {status.url}")
    status.refresh()  # GET status/{id}/ even when the POST answered "complete"
    status.wait_until_final(poll_interval=0.2, timeout=30)
    check_status(status, first, f"{where} add_objects")
    polled = api_root.get_status(status.id)
    polled.wait_until_final(poll_interval=0.2, timeout=30)
    check_status(polled, first, f"{where} get_status")

    # 2. A new version of the indicator, waiting for completion inside the client.
    newer = indicator.new_version(name="relais interop: taxii2-client indicator, v2",
                                  modified=now + datetime.timedelta(seconds=1))
    second = as_dicts([newer])
    status2 = collection.add_objects({"objects": second}, wait_for_completion=True,
                                     poll_interval=0.2, timeout=30)
    check_status(status2, second, f"{where} add_objects (new version)")

    # 3. Read back what was posted, exactly.
    for posted in first[1:] + second:
        got = envelope_objects(collection.get_object(posted["id"]), f"{where} read back")
        check(got == [posted], f"{where}: {posted['id']} reads back as {got}, posted {posted}")
        validate(got[0], f"{where} read back")
    vers = collection.object_versions(indicator.id)["versions"]
    check(sorted(parse_ts(v) for v in vers)
          == sorted(parse_ts(o["modified"]) for o in (first[0], second[0])),
          f"{where}: versions of the indicator are {vers}")
    v1 = envelope_objects(collection.get_object(indicator.id, version=first[0]["modified"]),
                          f"{where} indicator v1")
    check(v1 == [first[0]], f"{where}: the first indicator version reads back as {v1}")
    _, manifest, _ = read_all_pages(collection.get_manifest, args.per_request,
                                    f"{where} manifest", id=indicator.id)
    check(len(manifest) == 1 and parse_ts(manifest[0]["version"]) == parse_ts(second[0]["modified"]),
          f"{where}: manifest for the indicator: {manifest}")

    # 4. An envelope with one valid and one invalid object: refused whole (4xx), or
    # accepted with the invalid one among the failures; the invalid one is never stored.
    bad = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = ", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [stix2.TLP_GREEN.id],
    }
    good = as_dicts([stix2.Malware(name="relais interop: partner of an invalid object",
                                   is_family=True, object_marking_refs=[stix2.TLP_GREEN])])[0]
    try:
        status3 = collection.add_objects({"objects": [good, bad]}, wait_for_completion=True,
                                         poll_interval=0.2, timeout=30)
        check(status3.status == "complete", f"{where}: mixed envelope status {status3.status}")
        check((status3.total_count, status3.success_count, status3.failure_count)
              == (2, 1, 1),
              f"{where}: mixed envelope total/success/failure = {status3.total_count}/"
              f"{status3.success_count}/{status3.failure_count}")
        check([f["id"] for f in status3.failures] == [bad["id"]],
              f"{where}: failures {status3.failures} do not name {bad['id']}")
        check(status3.failures[0].get("message"), f"{where}: a failure without message")
        check([s["id"] for s in status3.successes] == [good["id"]],
              f"{where}: successes {status3.successes} do not name {good['id']}")
        mixed = {"outcome": "partial", "failures": status3.failures}
        good_status = 200
    except requests.exceptions.HTTPError as e:
        code = e.response.status_code
        check(400 <= code < 500, f"{where}: mixed envelope answered {code}")
        mixed = {"outcome": "refused", "http_status": code, "body": e.response.text[:500]}
        good_status = 404
    check(http_status(lambda: collection.get_object(bad["id"])) == 404,
          f"{where}: the invalid indicator {bad['id']} was stored")
    check(http_status(lambda: collection.get_object(good["id"])) == good_status,
          f"{where}: the valid partner of an invalid object: expected {good_status}")
    mixed["valid_id"] = good["id"]
    mixed["invalid_id"] = bad["id"]

    summary["write"] = {
        "initial_status": initial,
        "status_id": status.id,
        "posted": [{"id": o["id"], "modified": o["modified"]} for o in first + second],
        "indicator": indicator.id,
        "malware": malware.id,
        "relationship": relationship.id,
        "indicator_versions": vers,
        "mixed_envelope": mixed,
    }


def check_delete(args, collection, validate, summary):
    """Delete an Object (TAXII 2.1 section 5.7) through taxii2-client: one version, then the
    rest; the deleted versions are gone for the client afterwards."""
    where = f"collection {collection.id}"
    check(collection.can_write, f"{where}: can_write is false for this principal")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    v1 = stix2.Indicator(
        name="relais interop: deleted by taxii2-client",
        pattern="[url:value = 'https://relais.example/delete-me']",
        pattern_type="stix", valid_from=now, object_marking_refs=[stix2.TLP_GREEN])
    v2 = v1.new_version(name="relais interop: deleted by taxii2-client, v2",
                        modified=now + datetime.timedelta(seconds=1))
    posted = as_dicts([v1, v2])
    status = collection.add_objects({"objects": posted}, wait_for_completion=True,
                                    poll_interval=0.2, timeout=30)
    check_status(status, posted, f"{where} add_objects before delete")
    for o in posted:
        validate(o, "what stix2 built")

    collection.delete_object(v1.id, version=posted[0]["modified"])
    left = collection.object_versions(v1.id)["versions"]
    check([parse_ts(v) for v in left] == [parse_ts(posted[1]["modified"])],
          f"{where}: after deleting version {posted[0]['modified']}, versions are {left}")
    collection.delete_object(v1.id)
    for name, call in [
        ("get_object", lambda: collection.get_object(v1.id)),
        ("object_versions", lambda: collection.object_versions(v1.id)),
    ]:
        code = http_status(call)
        check(code == 404, f"{where}: {name} after delete_object answered {code}, expected 404")
    summary["delete"] = {"id": v1.id, "versions": [o["modified"] for o in posted]}


class Verdicts:
    """stix2-validator's and stix2's verdicts on objects, each distinct object judged once:
    most objects reach several readers unchanged, and the validator takes milliseconds each."""

    def __init__(self):
        self.options = stix2validator.ValidationOptions(version="2.1")
        self.cache = {}
        self.judged = 0

    def __call__(self, obj):
        """(errors, warnings): the validator's errors, then stix2's refusal if any."""
        key = json.dumps(obj, sort_keys=True, separators=(",", ":"))
        if key not in self.cache:
            self.judged += 1
            warnings = 0
            try:
                result = stix2validator.validate_instance(obj, self.options)
                errors = [str(e) for e in result.errors] if not result.is_valid else []
                warnings = len(result.warnings or [])
            except Exception as e:  # it raises on what it cannot even read (no id, no type)
                errors = [f"stix2-validator: {type(e).__name__}: {e}"]
            try:
                stix2.parse(obj, allow_custom=True, version="2.1")
            except Exception as e:  # stix2 raises many exception types
                errors.append(f"stix2.parse: {type(e).__name__}: {e}")
            self.cache[key] = (tuple(errors), warnings)
        return self.cache[key]


def version_key(obj):
    return (obj.get("id"), obj.get("modified", obj.get("created")))


def check_released(reader, collection, obj, originals, verdicts, out, violations):
    """One released object against what was posted: the hub may only take parts away, and
    what it sends must not be invalid where what it was given was valid."""
    where = f"{reader} in {collection}: {obj.get('id')} ({obj.get('modified')})"
    original = originals.get(version_key(obj))
    if original is None:
        violations.append(f"{where}: released, but no such version was posted")
        return
    if obj != original:
        out["pruned"][obj["id"]] = {
            "removed": sorted(set(original) - set(obj)),
            "changed": sorted(k for k in obj if k in original and obj[k] != original[k]),
        }
        added = sorted(set(obj) - set(original))
        if added:
            violations.append(f"{where}: released with properties never posted: {added}")
        # Gone is for the validator to judge (an SCO's spec_version is optional); changed is
        # another object.
        for k in ("type", "spec_version", "created", "modified"):
            if k in obj and obj[k] != original.get(k):
                violations.append(f"{where}: {k} changed from {original.get(k)!r}")
    errors, warnings = verdicts(obj)
    out["warnings"] += warnings
    if not errors:
        return
    original_errors, _ = verdicts(original)
    if not original_errors:
        violations.append(
            f"{where}: invalid as released, valid as posted: {'; '.join(errors)}; "
            f"released {json.dumps(obj)[:1500]}")
    elif not set(errors) <= set(original_errors):
        violations.append(
            f"{where}: released with errors the posted object did not have: "
            f"{sorted(set(errors) - set(original_errors))}")
    else:
        # Not the hub's doing: the object was refused by the validator as it was posted.
        out["invalid_as_posted"].append({"id": obj["id"], "errors": list(errors)})


def check_every_reader(args, summary):
    """Each reader follows discovery to every API root and reads every collection it may, all
    versions, with taxii2-client; every object it receives goes through stix2-validator."""
    with open(args.originals, encoding="utf-8") as f:
        originals = {version_key(o): o for o in json.load(f)}
    verdicts = Verdicts()
    readers = {}
    violations = []
    for name, cert, key in args.reader:
        server = Server(args.discovery, verify=args.ca, cert=(cert, key))
        check(server.api_roots, f"{name}: discovery lists no API root")
        mine = {"collections": {}}
        for root in server.api_roots:
            for collection in root.collections:
                if not collection.can_read:
                    continue
                out = {"ids": set(), "count": 0, "pruned": {}, "warnings": 0,
                       "invalid_as_posted": []}
                _, objects, _ = read_all_pages(collection.get_objects, args.per_request,
                                               f"{name} {collection.id}", version="all")
                for obj in objects:
                    check_released(name, collection.id, obj, originals, verdicts, out,
                                   violations)
                    out["ids"].add(str(obj.get("id")))
                    out["count"] += 1
                out["ids"] = sorted(out["ids"])
                mine["collections"][collection.id] = out
        readers[name] = mine
    summary["readers"] = readers
    summary["judged"] = verdicts.judged
    summary["originals"] = len(originals)
    if violations:
        shown = "\n  ".join(violations[:40])
        raise CheckFailed(f"{len(violations)} released objects fail:\n  {shown}")


def package_versions():
    from importlib.metadata import version
    return {p: version(p) for p in ("taxii2-client", "stix2", "stix2-validator", "requests")}


def main():
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override the CA a session was given
    # (psf/requests#4726): taxii2-client's `verify=CA` would then be ignored and the hub's
    # certificate refused. The hub's CA is the only trust anchor here.
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--discovery", default=env("RELAIS_TAXII_DISCOVERY"),
                   help="discovery URL, e.g. https://127.0.0.1:8443/taxii2/")
    p.add_argument("--ca", default=env("RELAIS_TAXII_CA"), help="CA certificate (PEM)")
    p.add_argument("--cert", default=env("RELAIS_TAXII_CERT"), help="client certificate (PEM)")
    p.add_argument("--key", default=env("RELAIS_TAXII_KEY"), help="client key (PEM)")
    p.add_argument("--collection", default=env("RELAIS_TAXII_COLLECTION"),
                   help="the collection to read or write")
    p.add_argument("--mode", choices=["read", "write", "delete", "every-reader"],
                   default=env("RELAIS_TAXII_MODE", "read"))
    p.add_argument("--per-request", type=int, default=int(env("RELAIS_TAXII_PER_REQUEST", "7")),
                   help="page size for as_pages")
    p.add_argument("--hidden-id", action="append", default=[],
                   help="an id the caller must never see (repeatable)")
    p.add_argument("--reader", nargs=3, action="append", default=[],
                   metavar=("NAME", "CERT", "KEY"),
                   help="every-reader mode: a principal to read as (repeatable)")
    p.add_argument("--originals",
                   help="every-reader mode: a JSON list of every object version posted")
    p.add_argument("--expect-api-root", default=env("RELAIS_TAXII_EXPECT_API_ROOT"),
                   help="the one API root URL discovery must give (default and api_roots)")
    args = p.parse_args()
    needed = (("discovery", "ca", "originals") if args.mode == "every-reader"
              else ("discovery", "ca", "cert", "key", "collection"))
    missing = [n for n in needed if not getattr(args, n)]
    if args.mode == "every-reader" and not args.reader:
        missing.append("reader")
    if missing:
        p.error("missing: " + ", ".join("--" + m for m in missing))
    if args.per_request < 1:
        p.error("--per-request must be positive")

    summary = {"mode": args.mode, "packages": package_versions()}
    validate = Validator()
    try:
        if args.mode == "every-reader":
            check_every_reader(args, summary)
            print(json.dumps(summary, default=str))
            return 0
        server, api_root, collection = check_basics(args, summary)
        if args.mode == "write":
            check_write(args, api_root, collection, validate, summary)
        elif args.mode == "delete":
            check_delete(args, collection, validate, summary)
        else:
            check_read(args, collection, validate, summary)
        summary["validated"] = validate.validated
        summary["validator_warnings"] = validate.warnings[:20]
    except CheckFailed as e:
        print(f"FAILED ({args.mode}): {e}", file=sys.stderr)
        # Every reader's ids would bury the message.
        shown = {k: v for k, v in summary.items() if k != "readers"}
        print(json.dumps(shown, indent=1, default=str), file=sys.stderr)
        return 1
    except requests.exceptions.HTTPError as e:
        r = e.response
        print(f"FAILED ({args.mode}): HTTP {r.status_code} for {r.request.method} {r.url}\n"
              f"request headers: {dict(r.request.headers)}\n"
              f"response headers: {dict(r.headers)}\nresponse body: {r.text[:2000]}",
              file=sys.stderr)
        traceback.print_exc()
        return 1
    except Exception as e:  # the client's own checks (ValidationError, TAXIIServiceException…)
        print(f"FAILED ({args.mode}): {type(e).__name__}: {e}", file=sys.stderr)
        traceback.print_exc()
        return 1
    print(json.dumps(summary, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
