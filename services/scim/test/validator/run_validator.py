"""Runs scim2-tester's check_server (every check) against a SCIM base URL and prints the results as JSON.

Usage: SCIM_TOKEN=<bearer token> python3 run_validator.py <base-url> [--ignore-unknown-attributes]
It only reports; test/integration/scim-validator.spec.ts decides what a failure is and which
checks are excluded (and why).
"""

import argparse
import json
import os
import sys

try:
    import httpx2
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_models import ScimPolicy, ScimProvider
    from scim2_tester import check_server
except ImportError as exc:
    sys.exit(
        f"scim2-tester is not importable ({exc}): install services/scim/test/validator/requirements.txt "
        "(node scripts/bootstrap/cli.mjs python) and put .dev/tools/python on PYTHONPATH"
    )


def check_pins() -> None:
    """Refuses to run with other versions than requirements.txt pins: results would not be comparable."""
    import importlib.metadata as metadata
    from pathlib import Path

    for line in (Path(__file__).parent / "requirements.txt").read_text().splitlines():
        pin = line.split("#")[0].strip()
        if not pin:
            continue
        name, _, version = pin.partition("==")
        name = name.split("[")[0]
        installed = metadata.version(name)
        if installed != version:
            sys.exit(f"{name} {installed} is installed, requirements.txt pins {version}")


def main() -> None:
    check_pins()
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    # Unknown attributes dropped instead of refused. Only for the aws profile: AWS's error bodies
    # carry `schema`, `exceptionRequestId` and `timeStamp` beside RFC 7644 §3.12's members.
    parser.add_argument("--ignore-unknown-attributes", action="store_true")
    args = parser.parse_args()
    unknown = ScimPolicy.Unknown.ignore if args.ignore_unknown_attributes else ScimPolicy.Unknown.forbid
    http = httpx2.Client(
        base_url=args.base_url,
        headers={"Authorization": f"Bearer {os.environ['SCIM_TOKEN']}"},
        timeout=30,
    )
    client = SyncSCIMClient(http, provider=ScimProvider(policy=ScimPolicy(unknown=unknown)))
    results = check_server(client)
    out = [
        {
            "status": r.status.name,
            "title": r.title,
            "resourceType": r.resource_type,
            # The attribute a PATCH check worked on (one check per attribute).
            "attribute": r.data.get("urn") if isinstance(r.data, dict) else None,
            "tags": sorted(r.tags),
            "reason": r.reason,
            "data": repr(r.data)[:2000],
        }
        for r in results
    ]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
