from groundwork.platform.answers.answerability import expects_quantity, missing_terms, named_terms, states_quantity


def test_named_terms_are_products_acronyms_versions_and_identifiers() -> None:
    question = "Which port does Istio's Envoy proxy use, and does Dapr 2.0 set `maxRetries` or dapr/dapr flags?"
    assert named_terms(question) == ["Istio", "Envoy", "Dapr", "2.0", "maxRetries", "dapr/dapr"]
    assert named_terms("How do I set a TTL on state?") == ["TTL"]


def test_missing_terms_are_those_no_passage_mentions() -> None:
    passages = ["Dapr sidecars talk to Redis.", "Set the ttlInSeconds metadata."]
    assert missing_terms("Does Dapr support Istio with Redis?", passages) == ["Istio"]
    assert missing_terms("How does Dapr use Redis?", passages) == []


def test_quantity_questions_need_a_number_and_cost_questions_money() -> None:
    assert expects_quantity("How many replicas run by default?")
    assert expects_quantity("When is the next release?")
    assert not expects_quantity("How do I restore a backup when the API is down?")
    assert states_quantity("It runs 3 replicas [1].")
    assert not states_quantity("It runs several replicas [1].")
    assert not states_quantity("The audit took place in 2021 [2].", "How much did the audit cost?")
    assert states_quantity("The audit cost $40,000 [2].", "How much did the audit cost?")
