"""A STAND-IN for the Kubernetes API server, not a Kubernetes API server.

No API server can run on the test machine, so `groundwork capacity` is tested against this small HTTP server.
It serves only what the command uses, on the same paths and with the same JSON shapes as the real API:

- `GET /api/v1/namespaces/{ns}/podtemplates/{name}`
- `POST|GET /apis/autoscaling.x-k8s.io/v1/namespaces/{ns}/provisioningrequests[/{name}]`, `DELETE .../{name}`

Every ProvisioningRequest body it receives is validated against the REAL CRD schema vendored from the
Kubernetes autoscaler project (`infra/schemas/provisioningrequests.autoscaling.x-k8s.io.yaml`), strictly
(unknown fields are errors, as with `fieldValidation=Strict`). An invalid body gets HTTP 422 with a `Status`
object, a duplicate 409, a missing object 404 — as the real server answers. What the real cluster autoscaler
would do (set conditions) the test does itself with `set_conditions`.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.infra.schemas import validate

_PODTEMPLATE = re.compile(r"^/api/v1/namespaces/([^/]+)/podtemplates/([^/]+)$")
_PROVREQS = re.compile(r"^/apis/autoscaling\.x-k8s\.io/v1/namespaces/([^/]+)/provisioningrequests(?:/([^/]+))?$")


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


class KubernetesStandIn:
    """State of the stand-in: PodTemplates and ProvisioningRequests by (namespace, name), and every request seen."""

    def __init__(self) -> None:
        self.pod_templates: dict[tuple[str, str], dict[str, Any]] = {}
        self.provisioning_requests: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any] | None]] = []
        self.lock = threading.Lock()
        self.url = ""

    def add_pod_template(self, namespace: str, name: str) -> None:
        self.pod_templates[(namespace, name)] = {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": name, "namespace": namespace},
            "template": {"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai"}]}},
        }

    def set_conditions(self, namespace: str, name: str, *conditions: tuple[str, str, str]) -> None:
        """What the cluster autoscaler does: (type, status, reason) conditions on the request's status."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.lock:
            document = self.provisioning_requests[(namespace, name)]
            document["status"] = {
                "conditions": [
                    {"type": t, "status": s, "reason": r, "message": f"{t} is {s}", "lastTransitionTime": now}
                    for t, s, r in conditions
                ]
            }
            problems = validate(document)
            if problems:
                raise AssertionError(f"the test set a status the CRD does not allow: {problems}")

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, path, body))
        template = _PODTEMPLATE.match(path)
        if template and method == "GET":
            found = self.pod_templates.get((template[1], template[2]))
            if found is None:
                return 404, _status(404, "NotFound", f'podtemplates "{template[2]}" not found')
            return 200, found
        requests = _PROVREQS.match(path)
        if not requests:
            return 404, _status(404, "NotFound", f"the stand-in does not serve {method} {path}")
        namespace, name = requests[1], requests[2]
        with self.lock:
            if method == "POST" and name is None:
                return self._create(namespace, body, strict=query.get("fieldValidation") == ["Strict"])
            key = (namespace, name or "")
            if key not in self.provisioning_requests:
                return 404, _status(404, "NotFound", f'provisioningrequests.autoscaling.x-k8s.io "{name}" not found')
            if method == "GET":
                return 200, self.provisioning_requests[key]
            if method == "DELETE":
                del self.provisioning_requests[key]
                return 200, {"kind": "Status", "apiVersion": "v1", "status": "Success", "details": {"name": name}}
        return 405, _status(405, "MethodNotAllowed", f"{method} {path}")

    def _create(self, namespace: str, body: Any, *, strict: bool) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict):
            return 400, _status(400, "BadRequest", "the body is not a JSON object")
        problems = validate(body) if strict else []
        if body.get("apiVersion") != "autoscaling.x-k8s.io/v1" or body.get("kind") != "ProvisioningRequest":
            problems.append("apiVersion/kind must be autoscaling.x-k8s.io/v1 ProvisioningRequest")
        metadata = body.get("metadata") or {}
        if metadata.get("namespace", namespace) != namespace:
            problems.append("metadata.namespace does not match the request path")
        if problems:
            return 422, _status(422, "Invalid", "ProvisioningRequest is invalid: " + "; ".join(problems))
        key = (namespace, metadata["name"])
        if key in self.provisioning_requests:
            return 409, _status(409, "AlreadyExists", f'provisioningrequests "{key[1]}" already exists')
        stored = json.loads(json.dumps(body))
        stored["metadata"].update(
            namespace=namespace,
            uid=str(uuid.uuid4()),
            resourceVersion="1",
            creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.provisioning_requests[key] = stored
        return 201, stored


def _handler(state: KubernetesStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            code, payload = state.handle(method, parts.path, parse_qs(parts.query), body)
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def running_standin() -> Iterator[KubernetesStandIn]:
    state = KubernetesStandIn()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="k8s-standin", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
