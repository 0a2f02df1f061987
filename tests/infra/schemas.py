"""Validation of Kubernetes objects against real schemas.

Built-in kinds: the Kubernetes OpenAPI schemas that `kubernetes-validate` ships (strict variant: unknown fields
are errors). Custom resources: the `openAPIV3Schema` of their CRD in `infra/schemas/`, made strict the same way
(the API server's `fieldValidation=Strict`), plus the object-name rules every resource obeys.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "infra" / "schemas"
KUBERNETES_VERSION = "1.33"
"""GKE's regular channel at the time of writing; kubernetes-validate picks its schemas for this version."""

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _strict(schema: Any) -> Any:
    """Unknown fields become errors: every object schema that lists properties and says nothing about others."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> strict openAPIV3Schema, for every served version of every CRD in infra/schemas."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if version.get("served"):
                    found[(f"{group}/{version['name']}", kind)] = _strict(version["schema"]["openAPIV3Schema"])
    return found


def validate(document: dict[str, Any]) -> list[str]:
    """Every problem with one object; empty when it is valid. An object of a kind no schema covers is a problem."""
    api_version, kind = document.get("apiVersion", ""), document.get("kind", "")
    metadata = document.get("metadata") or {}
    where = f"{kind} {metadata.get('name', '?')}"
    problems = []
    name = metadata.get("name", "")
    if not (isinstance(name, str) and len(name) <= 253 and _DNS_SUBDOMAIN.match(name)):
        problems.append(f"{where}: metadata.name {name!r} is not a DNS subdomain name")
    schema = crd_schemas().get((api_version, kind))
    if schema is not None:
        validator = jsonschema.Draft7Validator(copy.deepcopy(schema))
        problems += [
            f"{where}: {'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)
        ]
        return problems
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        problems.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
    except kubernetes_validate.SchemaNotFoundError:
        problems.append(f"{where}: no schema for {api_version} {kind} (neither Kubernetes nor infra/schemas)")
    return problems
