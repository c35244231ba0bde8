#!/usr/bin/env python3
"""Reads rendered manifests (YAML on stdin), validates each object against the Kubernetes
OpenAPI schemas shipped by kubernetes-validate (offline, strict: unknown fields fail) for
every version given as an argument, and prints {"objects": [...], "errors": [...]} as JSON."""
import json
import sys

try:
    import yaml
except ImportError:
    print(json.dumps({"fatal": "python package PyYAML is missing: python3 -m pip install -r test/chart/requirements.txt"}))
    sys.exit(0)

versions = sys.argv[1:]
if versions:
    try:
        import kubernetes_validate
    except ImportError:
        print(json.dumps({"fatal": "python package kubernetes-validate is missing: python3 -m pip install -r test/chart/requirements.txt"}))
        sys.exit(0)
objects = [d for d in yaml.safe_load_all(sys.stdin.read()) if d]
errors = []
for version in versions:
    for obj in objects:
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{version} {name}: {e.message} at {'.'.join(str(p) for p in e.path)}")
        except Exception as e:  # unknown kind/version, schema not shipped
            errors.append(f"{version} {name}: {type(e).__name__}: {e}")
print(json.dumps({"objects": objects, "errors": errors}))
