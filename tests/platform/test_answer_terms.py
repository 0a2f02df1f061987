"""Question terms meet passages through normalisation; the asker's own names are context; each gate's rule."""

from __future__ import annotations

from collections.abc import Sequence

from groundwork.platform.answers.answerability import missing_terms, subject_terms, vocabulary_words
from groundwork.platform.answers.gates import GatePolicy, check_names, check_vocabulary, with_caveat
from groundwork.platform.answers.terms import PassageTerms, context_terms, forms, mentions, split_identifier


def test_identifiers_split_at_case_and_separators() -> None:
    assert split_identifier("selfHeal") == ["self", "heal"]
    assert split_identifier("allow_origins") == ["allow", "origins"]
    assert split_identifier("payments-svc") == ["payments", "svc"]
    assert split_identifier("CRDs") == ["crd"]
    assert split_identifier("HTTPSRedirectMiddleware") == ["https", "redirect", "middleware"]


def test_forms_cover_case_stems_joins_and_shorthand() -> None:
    assert ("kubernet",) in forms("k8s")
    assert ("without",) in forms("w/o")
    assert ("self", "heal") in forms("selfheal") and ("selfheal",) in forms("self-heal")
    assert ("crd",) in forms("CRDs")


def test_a_passage_mentions_a_term_in_any_form() -> None:
    passage = PassageTerms.of(
        "Set the `selfHeal` flag. Horizontal Pod Autoscaling (HPA) reorders spec.metrics. "
        "Install the CustomResourceDefinition on Kubernetes; persistent volumes are kept."
    )
    for term in ("self-heal", "selfheal", "SelfHeal", "HPAs", "CRDs", "k8s", "PVs", "metrics"):
        assert mentions(term, passage), term
    for term in ("Nomad", "HPAv2", "http/2"):
        assert not mentions(term, passage), term
    assert mentions("startup/shutdown", PassageTerms.of("code run at startup and at shutdown"))
    assert not mentions("localhost:3000", PassageTerms.of("a frontend at http://localhost:8080"))


def test_the_askers_team_service_and_environment_names_are_context() -> None:
    question = "how do i turn on auto sync for our payments app? team-falcon owns orders-svc and our billing-api"
    assert {"payments", "falcon", "orders-svc", "billing-api"} <= context_terms(question)
    assert "api" not in context_terms(question) and "svc" not in context_terms(question)
    assert subject_terms("why does our payments-svc get OutOfSync w/o changes in k8s?") == ["OutOfSync"]


def test_subject_terms_leave_out_shorthand_numbers_and_http_verbs() -> None:
    assert subject_terms("how do i return a 404 on GET, e.g. for a missing item (3rd party db)") == []
    assert subject_terms("is `allow_credentials` ok with CORSMiddleware?") == ["allow_credentials", "CORSMiddleware"]


def test_missing_terms_match_through_normalisation() -> None:
    passages = ["Argo CD ignores differences with ignoreDifferences for Horizontal Pod Autoscaling (HPA) objects."]
    assert missing_terms("HPAs keep flipping, how do i use ignore-differences?", passages) == []
    assert missing_terms("can argo deploy to Nomad?", passages) == ["Nomad"]


def test_vocabulary_words_carry_their_spelled_out_forms_and_skip_context() -> None:
    groups = vocabulary_words("our orders-svc needs bg notifs w/o a db, isnt that smth")
    assert ["bg", "background"] in groups and ["notifs", "notifications", "notification"] in groups
    assert ["db", "database"] in groups and ["smth", "something"] in groups
    assert not any(group[0] in {"orders", "isnt", "w"} for group in groups)


def _unknown(vocabulary: set[str]):  # type: ignore[no-untyped-def]
    def unknown(words: Sequence[str]) -> list[str]:
        return [w for w in words if w not in vocabulary]

    return unknown


def test_the_vocabulary_gate_refuses_off_corpus_words_and_tolerates_as_configured() -> None:
    known = _unknown({"background", "task", "tasks", "email", "send"})
    strict, lenient = GatePolicy(vocabulary_max_unknown=0), GatePolicy(vocabulary_max_unknown=1)
    assert not check_vocabulary("send an email in a bg task", known, strict).refuse
    refused = check_vocabulary("send an email via kafka in a bg task", known, strict)
    assert refused.refuse and refused.notice == "The documents never mention 'kafka'."
    caveat = check_vocabulary("send an email via kafka in a bg task", known, lenient)
    assert not caveat.refuse and caveat.notice and "kafka" in caveat.notice
    assert check_vocabulary("publish to kafka with brotli", known, lenient).refuse
    assert not check_vocabulary("publish to kafka", known, GatePolicy(vocabulary="off")).refuse


def test_the_names_gate_refuses_only_below_the_caveat_relevance() -> None:
    passages = ["Argo CD deploys Kubernetes manifests from Git."]
    policy = GatePolicy(names="refuse", names_caveat_relevance=0.55)
    low = check_names("can Argo deploy to Nomad?", passages, 0.40, policy)
    assert low.refuse and low.notice == "No retrieved passage mentions Nomad."
    high = check_names("can Argo deploy to Nomad?", passages, 0.70, policy)
    assert not high.refuse and high.notice and "Nomad" in high.notice
    assert check_names("how does Argo deploy from Git?", passages, 0.40, policy).notice is None
    version = check_names("when is Argo 4.0 out?", passages, 0.90, policy)  # a version is never a caveat
    assert version.refuse and version.notice == "No retrieved passage mentions 4.0."


def test_a_refusal_always_says_why_and_an_answer_keeps_its_caveat() -> None:
    assert with_caveat(None, None, answered=False)
    assert with_caveat("No retrieved passage mentions Nomad.", None, answered=False, gated=True) == (
        "No retrieved passage mentions Nomad."
    )
    degraded = with_caveat("The language model is not available.", None, answered=False)
    assert degraded and degraded.startswith("No passage found states an answer")
    assert with_caveat("Quoted.", "Caveat.", answered=True) == "Caveat. Quoted."
    assert with_caveat(None, None, answered=True) is None
