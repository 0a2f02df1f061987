"""The canary matrix: 3 tenants x 20 users x 10 groups, every document carrying a unique canary string. For every
user, every path that can reveal content is queried; no canary of a document the user may not read may appear in
a response, in the prompt sent to the model, or in the logs.

The model is a scripted OpenAI-compatible server that repeats, from every source of its prompt, the sentence that
carries the canary: the worst case for a leak, since whatever reached the prompt reaches the answer; the prompts it
received are checked too. Who may read what is computed here independently of the platform
(`Matrix.readable`). Names of users, groups, documents and filters include injection strings.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from groundwork.platform.access.principal import Principal
from groundwork.platform.config import (
    AccessConfig,
    AnswersConfig,
    GenerationConfig,
    IngestionConfig,
    OidcProviderConfig,
)
from groundwork.platform.db.models import Chunk
from groundwork.serving.testing import ScriptedChatServer

from ..conftest import admin_key, api_client, make_settings
from .helpers import bearer, upload, wait_job
from .oidc_support import Provider, cookie_session, run_provider

pytestmark = pytest.mark.slow

TENANTS = ("default", "acme", "globex")
GROUPS = ("eng", "sre", "eng' OR '1'='1", "*", "%", "_", '") OR 1=1 --', "всё-ok", "all", "tenant")
UNKNOWN_GROUP = "ghost"
USER_NAMES = (
    ["admin", "ed@acme.com", "edna"]
    + [f"user{i:02d}" for i in range(3, 15)]
    + ["' OR ''='", "%", "*", "u\\x", 'ana"; DROP TABLE users; --']
)
QUESTION = "What is the on-call rotation schedule and the pager escalation policy?"
CANARY = re.compile(r"zqcanary[0-9a-f]{10}")
DOCUMENTS_PER_TENANT = 24


@dataclass
class Doc:
    tenant: str
    index: int
    canary: str
    acl: dict[str, Any]
    id: str = ""
    job: str = ""
    chunk: int = 0


@dataclass
class User:
    tenant: str
    name: str
    role: str
    groups: set[str]
    token: str = ""


@dataclass
class Matrix:
    client: TestClient
    model: ScriptedChatServer
    users: list[User]
    docs: list[Doc]
    log: list[str] = field(default_factory=list)
    provider: Provider | None = None
    """The OIDC provider every user can also sign in with (its claims: email, tenant, groups)."""

    def readable(self, user: User, doc: Doc) -> bool:
        """The oracle: the platform's rule, written out independently of its code."""
        if user.tenant != doc.tenant:
            return False
        acl = doc.acl
        if not (acl["tenant"] or acl["users"] or acl["groups"]):
            return user.role == "admin"
        return bool(acl["tenant"] or user.name in acl["users"] or user.groups & set(acl["groups"]))

    def hidden_canaries(self, user: User) -> set[str]:
        return {d.canary for d in self.docs if not self.readable(user, d)}

    def readable_ids(self, user: User) -> set[str]:
        return {d.id for d in self.docs if self.readable(user, d)}


class Recorder(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self._sink.append(self.format(record))


def _acl(rng: random.Random, index: int, users: list[str]) -> dict[str, Any]:
    kind = index % 8
    acl: dict[str, Any] = {"users": [], "groups": [], "tenant": False}
    if kind == 0:
        acl["tenant"] = True
    elif kind == 1:
        pass  # empty: tenant admins only
    elif kind in (2, 3):
        acl["users"] = rng.sample(users, 1 + kind - 2)
    elif kind in (4, 5):
        acl["groups"] = rng.sample(GROUPS, kind - 3)
    elif kind == 6:
        acl["groups"] = [UNKNOWN_GROUP]
    else:
        acl["users"] = rng.sample(users, 1)
        acl["groups"] = rng.sample(GROUPS, 1)
    return acl


SOURCE = re.compile(r"^\[(\d+)\][^\n]*\n<<<\n(.*?)\n>>>$", re.MULTILINE | re.DOTALL)


def repeat_canary_sentences(messages: list[dict[str, Any]]) -> str:
    """Every source's canary, cited to it, as the source words it (short claims keep verification fast; the
    whole prompt is checked separately)."""
    prompt = "\n".join(str(m.get("content", "")) for m in messages)
    sentences = [
        f"Canary {canary} marks this page [{number}]."
        for number, text in SOURCE.findall(prompt)
        for canary in CANARY.findall(text)
    ]
    return " ".join(sentences) or "I don't know."


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    rng = random.Random(20261202)
    model = ScriptedChatServer(repeat_canary_sentences, chunk_chars=48)
    provider_context = run_provider()
    provider = provider_context.__enter__()
    oidc = OidcProviderConfig(
        id="idp",
        issuer=provider.url,
        client_id="groundwork",
        client_secret="matrix",
        tenant_claim="tenant",
        create_users=False,
    )
    settings = make_settings(
        tmp_path_factory.mktemp("canaries") / "data",
        generation=GenerationConfig(backend="remote", base_url=model.url),
        ingestion=IngestionConfig(workers=1, batch_size=16),
        answers=AnswersConfig(context_documents=0, top_k=10),
        access=AccessConfig(rate_limit_per_minute=0, oidc_providers=[oidc]),
    )
    log: list[str] = []
    recorder = Recorder(log)
    recorder.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    logging.getLogger("markdown_it").setLevel(logging.INFO)  # its parser traces carry nothing of ours
    try:
        with api_client(settings) as client:
            keys = {"default": admin_key(settings)}
            for tenant in TENANTS[1:]:
                created = client.post("/v1/admin/tenants", json={"id": tenant})
                assert created.status_code == 201, created.text
                keys[tenant] = created.json()["admin_key"]["token"]
            users: list[User] = []
            docs: list[Doc] = []
            for tenant in TENANTS:
                admin = bearer(keys[tenant])
                for group in GROUPS:
                    assert client.post("/v1/admin/groups", json={"name": group}, headers=admin).status_code == 201
                for position, name in enumerate(USER_NAMES):
                    role = "admin" if position == 0 else "editor" if position < 3 else "reader"
                    groups = set(rng.sample(GROUPS, rng.randint(0, 3)))
                    if name != "admin":
                        body = {"name": name, "role": role, "groups": sorted(groups)}
                        assert client.post("/v1/admin/users", json=body, headers=admin).status_code == 201
                    else:
                        add = {"users": ["admin"]}
                        for group in groups:
                            client.post(f"/v1/admin/groups/{_path(group)}/members", json=add, headers=admin)
                    key = client.post("/v1/admin/api-keys", json={"user": name}, headers=admin)
                    assert key.status_code == 201, key.text
                    users.append(User(tenant, name, role, groups, key.json()["token"]))
                    claims = {"email": name, "tenant": tenant, "groups": sorted(groups)}
                    provider.set_user(f"{tenant}-{position}", claims)
                assert client.post("/v1/datastores", json={"name": "kb"}, headers=admin).status_code == 201
                for index in range(DOCUMENTS_PER_TENANT):
                    canary = f"zqcanary{rng.getrandbits(40):010x}"
                    acl = _acl(rng, index, list(USER_NAMES))
                    text = (
                        f"# Rotation notes {index}\n\nThe on-call rotation schedule of the platform team, page "
                        f"{index}. Canary {canary} marks this page. The pager escalation policy applies to every "
                        f"incident of severity {index % 4}; handover happens on {('Monday', 'Thursday')[index % 2]}.\n"
                    )
                    title = f"Rotation {canary}" if index % 3 == 0 else f"Rotation notes {index} ' OR 1=1 --"
                    accepted = upload(client, "kb", f"notes-{index}.md", text, acl, title=title, headers=admin)
                    docs.append(Doc(tenant, index, canary, acl, accepted["document_id"], accepted["job"]["id"]))
                for doc in docs[-DOCUMENTS_PER_TENANT:]:
                    wait_job(client, doc.job, headers=admin)
                listed = client.get("/v1/datastores/kb/documents", headers=admin).json()["items"]
                assert all(d["status"] == "indexed" for d in listed), listed
            services = client.app.state.services  # type: ignore[attr-defined]
            with services.database.session() as session:
                first: dict[str, int] = {}
                for document_id, chunk_id in session.execute(select(Chunk.document_id, Chunk.id).order_by(Chunk.id)):
                    first.setdefault(document_id, chunk_id)
            for doc in docs:
                doc.chunk = first[doc.id]
            log.clear()
            yield Matrix(client, model, users, docs, log, provider)
    finally:
        root.removeHandler(recorder)
        root.setLevel(previous_level)
        model.close()
        provider_context.__exit__(None, None, None)


def _path(name: str) -> str:
    return quote(name, safe="")


def _content(response: Any) -> str:
    """What an answer reveals of documents (the question itself, echoed back, is the asker's own words)."""
    body = response.json()
    return json.dumps([body[key] for key in ("answer", "citations", "claims", "retrieved")])


def _leaks(text: str, hidden: set[str]) -> set[str]:
    return set(CANARY.findall(text)) & hidden


@dataclass
class Tally:
    checks: int = 0
    leaks: list[str] = field(default_factory=list)

    def check(self, where: str, text: str, hidden: set[str]) -> None:
        self.checks += 1
        found = _leaks(text, hidden)
        if found:
            self.leaks.append(f"{where}: {sorted(found)}")


def _hit_documents(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {hit["document_id"] for hit in response.json()["hits"]}


def test_no_user_ever_sees_a_canary_it_may_not_read(matrix: Matrix) -> None:
    client, tally = matrix.client, Tally()
    every_canary = " ".join(d.canary for d in matrix.docs)
    injection_filters = [
        [{"key": "team' OR '1'='1", "op": "eq", "value": "x' OR '1'='1"}],
        [{"key": "title", "op": "ne", "value": "' OR 1=1 --"}],
        [{"key": "document_id", "op": "in", "value": [d.id for d in matrix.docs]}],
    ]
    for user in matrix.users:
        auth = bearer(user.token)
        hidden, readable = matrix.hidden_canaries(user), matrix.readable_ids(user)
        prompts_before, logs_before = len(matrix.model.requests), len(matrix.log)
        who = f"{user.tenant}/{user.name}"

        # Search: every mode ranks exactly the readable documents (top_k covers them all).
        for mode, query in (("hybrid", QUESTION), ("dense", QUESTION), ("lexical", every_canary)):
            body = {"query": query, "datastore_ids": ["kb"], "top_k": 200, "mode": mode}
            response = client.post("/v1/search", json=body, headers=auth)
            assert _hit_documents(response) == readable, (who, mode)
            tally.check(f"{who} search {mode}", response.text, hidden)
        for filters in injection_filters:
            body = {"query": QUESTION, "datastore_ids": ["kb"], "top_k": 200, "filters": filters}
            response = client.post("/v1/search", json=body, headers=auth)
            assert _hit_documents(response) <= readable, (who, filters)
            tally.check(f"{who} search filters", response.text, hidden)

        # Answers, streamed and not, and the OpenAI-compatible endpoint, streamed and not.
        answer = client.post("/v1/answer", json={"question": QUESTION, "datastore_ids": ["kb"]}, headers=auth)
        assert answer.status_code == 200, answer.text
        tally.check(f"{who} answer", answer.text, hidden)
        conversation = answer.json()["conversation_id"]
        follow_up = {"question": "And the handover day?", "datastore_ids": ["kb"], "stream": True}
        streamed = client.post("/v1/answer", json={**follow_up, "conversation_id": conversation}, headers=auth)
        assert streamed.status_code == 200
        tally.check(f"{who} answer sse follow-up", streamed.text, hidden)
        for stream in (False, True):
            chat = {"model": "kb", "messages": [{"role": "user", "content": QUESTION}], "stream": stream}
            response = client.post("/v1/chat/completions", json=chat, headers=auth)
            assert response.status_code == 200, response.text
            tally.check(f"{who} chat stream={stream}", response.text, hidden)

        # Counts, listings, documents, previews, files, jobs.
        stats = client.get("/v1/datastores/kb", headers=auth).json()
        assert stats["documents"] == len(readable), who
        tally.check(f"{who} datastores", client.get("/v1/datastores", headers=auth).text, hidden)
        listing = client.get("/v1/datastores/kb/documents", headers=auth)
        assert {d["id"] for d in listing.json()["items"]} == readable, who
        tally.check(f"{who} listing", listing.text, hidden)
        for doc in matrix.docs:
            if doc.tenant != user.tenant and doc.index % 6:
                continue  # other tenants: a sample of ids is enough, all of them are refused alike
            base = f"/v1/datastores/kb/documents/{doc.id}"
            urls = [base, f"{base}/preview?chunk_id={doc.chunk}", f"{base}/file"]
            if doc.index % 8 == len(user.name) % 8:  # job listings: a different sample for each user
                urls.append(f"/v1/jobs/{doc.job}/documents")
            for url in urls:
                response = client.get(url, headers=auth)
                # A job is visible only to who may read (or, as an admin, manage) every document of it (#15).
                admin_of_job = "/jobs/" in url and doc.tenant == user.tenant and user.role == "admin"
                expected = 200 if doc.id in readable or admin_of_job else 404
                assert response.status_code == expected, (who, url, response.text)
                tally.check(f"{who} {url}", response.text, hidden)

        # Conversation history; the audit log for admins.
        history = client.get(f"/v1/conversations/{conversation}", headers=auth)
        tally.check(f"{who} history", history.text, hidden)
        if user.role == "admin":
            audit = client.get("/v1/admin/audit?limit=1000", headers=auth)
            assert audit.status_code == 200
            entries = audit.json()
            titled = {d["id"] for e in entries for d in e["shown"] + e["cited"] if d["title"] is not None}
            assert titled <= readable, who
            for entry in entries:
                restricted = any(d["restricted"] for d in entry["shown"] + entry["cited"])
                assert entry["query_withheld"] == restricted and (entry["query"] is None or not restricted)
                if entry["query"] == every_canary:  # the users' own words (every canary, typed as a query)
                    entry["query"] = None
            tally.check(f"{who} audit", json.dumps(entries, ensure_ascii=False), hidden)

        # What the model was sent, and what the platform logged, while serving this user.
        for request in matrix.model.requests[prompts_before:]:
            tally.check(f"{who} prompt", json.dumps(request, ensure_ascii=False), hidden)
        tally.check(f"{who} logs", "\n".join(matrix.log[logs_before:]), hidden)
        assert len(matrix.model.requests) > prompts_before, "the answers reached the model"

    assert tally.leaks == [], tally.leaks[:20]
    assert tally.checks > 60 * 60
    print(f"canary matrix: {len(matrix.users)} users, {len(matrix.docs)} documents, {tally.checks} checks, 0 leaks")  # noqa: T201


def test_oidc_signed_in_sessions_see_exactly_what_their_keys_see(matrix: Matrix) -> None:
    """The same matrix through browser sessions: every user signs in with the identity provider, and its
    session reads exactly the documents its ACLs allow; a sample also asks for answers. Shares the matrix's
    fixture (the documents and users), so it adds seconds, not minutes."""
    client, tally = matrix.client, Tally()
    every_canary = " ".join(d.canary for d in matrix.docs)
    subjects = {(u.tenant, u.name): f"{u.tenant}-{USER_NAMES.index(u.name)}" for u in matrix.users}
    admin_header = client.headers.pop("Authorization")  # the cookie is the only credential here
    try:
        _through_sessions(matrix, tally, every_canary, subjects)
    finally:
        client.headers["Authorization"] = admin_header
    assert tally.leaks == [], tally.leaks[:20]
    assert tally.checks > 2 * len(matrix.users)
    print(f"canary matrix over OIDC sessions: {len(matrix.users)} users, {tally.checks} checks, 0 leaks")  # noqa: T201


def _through_sessions(matrix: Matrix, tally: Tally, every_canary: str, subjects: dict[tuple[str, str], str]) -> None:
    client = matrix.client
    for position, user in enumerate(matrix.users):
        who = f"{user.tenant}/{user.name} (session)"
        session = cookie_session(client, "idp", subjects[(user.tenant, user.name)])
        hidden, readable = matrix.hidden_canaries(user), matrix.readable_ids(user)
        me = client.get("/v1/me", headers=session.headers()).json()
        assert (me["tenant_id"], me["name"], me["method"]) == (user.tenant, user.name, "session"), who
        assert set(me["groups"]) == user.groups, who
        body = {"query": every_canary, "datastore_ids": ["kb"], "top_k": 200, "mode": "lexical"}
        response = client.post("/v1/search", json=body, headers=session.headers(changing=True))
        assert _hit_documents(response) == readable, who
        tally.check(f"{who} search", response.text, hidden)
        listing = client.get("/v1/datastores/kb/documents", headers=session.headers())
        assert {d["id"] for d in listing.json()["items"]} == readable, who
        tally.check(f"{who} listing", listing.text, hidden)
        for doc in [d for d in matrix.docs if d.id not in readable][position % 5 :: 17]:
            refused = client.get(
                f"/v1/datastores/kb/documents/{doc.id}/preview?chunk_id={doc.chunk}", headers=session.headers()
            )
            assert refused.status_code == 404, (who, doc.id)
        if position % 20 == 0:  # one per tenant: answers cost the most, the search above is the strict check
            unsigned = client.post("/v1/search", json=body, headers=session.headers())
            assert unsigned.status_code == 403 and unsigned.json()["error"]["code"] == "csrf_failed"
            question = {"question": QUESTION, "datastore_ids": ["kb"]}
            answer = client.post("/v1/answer", json=question, headers=session.headers(changing=True))
            assert answer.status_code == 200, answer.text
            tally.check(f"{who} answer", answer.text, hidden)


def _searchable(client: TestClient, user: User, doc: Doc) -> bool:
    body = {"query": doc.canary, "datastore_ids": ["kb"], "mode": "lexical"}
    return doc.id in _hit_documents(client.post("/v1/search", json=body, headers=bearer(user.token)))


def test_revocation_takes_effect_on_the_next_query(matrix: Matrix) -> None:
    client = matrix.client
    # A reader who reads a document only through one group.
    user, doc, group = next(
        (u, d, next(iter(u.groups & set(d.acl["groups"]))))
        for u in matrix.users
        for d in matrix.docs
        if u.role == "reader"
        and d.tenant == u.tenant
        and not d.acl["tenant"]
        and u.name not in d.acl["users"]
        and len(u.groups & set(d.acl["groups"])) == 1
    )
    admin = bearer(next(u.token for u in matrix.users if u.tenant == user.tenant and u.name == "admin"))
    assert _searchable(client, user, doc)
    path = f"/v1/admin/groups/{_path(group)}/members/{_path(user.name)}"
    assert client.delete(path, headers=admin).status_code == 204
    assert not _searchable(client, user, doc)
    answer = client.post(
        "/v1/answer", json={"question": doc.canary, "datastore_ids": ["kb"]}, headers=bearer(user.token)
    )
    assert doc.canary not in _content(answer)
    client.post(f"/v1/admin/groups/{_path(group)}/members", json={"users": [user.name]}, headers=admin)
    assert _searchable(client, user, doc)
    # An ACL change: narrowed to nobody but admins, then restored. Nothing is re-embedded (generation unchanged).
    services = client.app.state.services  # type: ignore[attr-defined]
    datastore_id = services.search.check_datastores(Principal.operator(user.tenant), ["kb"])[0]
    generation = services.indexes.get(datastore_id).generation
    url = f"/v1/datastores/kb/documents/{doc.id}/acl"
    assert client.put(url, json={"users": [], "groups": [], "tenant": False}, headers=admin).status_code == 200
    assert not _searchable(client, user, doc)
    assert client.put(url, json=doc.acl, headers=admin).status_code == 200
    assert _searchable(client, user, doc)
    assert services.indexes.get(datastore_id).generation == generation
    # A revoked key: refused on its next request.
    key_id = user.token.split("_")[1]
    assert client.delete(f"/v1/admin/api-keys/{key_id}", headers=admin).status_code == 204
    response = client.post(
        "/v1/search", json={"query": doc.canary, "datastore_ids": ["kb"]}, headers=bearer(user.token)
    )
    assert response.status_code == 401


def test_deleted_documents_never_come_back(matrix: Matrix, tmp_path: Path) -> None:
    client = matrix.client
    user = next(u for u in matrix.users if u.role == "editor" and u.tenant == "acme")
    doc = next(d for d in matrix.docs if d.tenant == "acme" and d.acl["tenant"])
    assert _searchable(client, user, doc)
    auth = bearer(user.token)
    assert client.delete(f"/v1/datastores/kb/documents/{doc.id}", headers=auth).status_code == 204
    for mode in ("lexical", "dense", "hybrid"):
        body = {"query": doc.canary, "datastore_ids": ["kb"], "mode": mode, "top_k": 200}
        assert doc.id not in _hit_documents(client.post("/v1/search", json=body, headers=auth))
    answer = client.post(
        "/v1/answer", json={"question": f"What marks {doc.canary}?", "datastore_ids": ["kb"]}, headers=auth
    )
    assert doc.canary not in _content(answer)
    assert client.get(f"/v1/datastores/kb/documents/{doc.id}", headers=auth).status_code == 404
    # The indexes rebuilt from the metadata store do not resurrect it either.
    services = client.app.state.services  # type: ignore[attr-defined]
    datastore_id = services.search.check_datastores(Principal.operator(user.tenant), ["kb"])[0]
    services.indexes.rebuild(datastore_id)
    body = {"query": doc.canary, "datastore_ids": ["kb"], "mode": "lexical"}
    assert doc.id not in _hit_documents(client.post("/v1/search", json=body, headers=auth))
