#!/usr/bin/env python3
"""The original tool's algorithm, one request at a time: the reference `make bench` compares against.

Token, then every list page in turn, then each workflow's export one after another, each written
to OUT/<id>.json (parsed and written with sorted keys). Standard library only; one keep-alive
connection, so it measures the algorithm, not connection setup.

    scripts/sequential-reference.py BASE_URL CLIENT_ID CLIENT_SECRET OUT_DIR
"""
import http.client
import json
import os
import sys
import urllib.parse


def main() -> int:
    base, client_id, client_secret, out = sys.argv[1:5]
    url = urllib.parse.urlsplit(base)
    prefix = url.path.rstrip("/")
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=120)

    def call(method, path, body=None, headers=None):
        connection.request(method, prefix + path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status}")
        return json.loads(data)

    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret})
    token = call("POST", "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"})["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    ids, page = [], 1
    while True:
        body = call("GET", f"/workflows?page={page}&page_length=50", headers=auth)
        ids += [item["id"] for item in body.get("data", []) if isinstance(item.get("id"), int)]
        if not body.get("data") or not body.get("pagination", {}).get("next_page"):
            break
        page += 1
    os.makedirs(out, exist_ok=True)
    for workflow_id in ids:
        export = call("GET", f"/workflows/{workflow_id}/export", headers=auth)
        with open(os.path.join(out, f"{workflow_id}.json"), "w") as file:
            json.dump(export, file, sort_keys=True, indent=2)
    print(f"{len(ids)} workflows, {page} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
