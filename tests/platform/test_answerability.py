from groundwork.platform.answers.answerability import (
    content_words,
    counted_things,
    expects_quantity,
    missing_terms,
    named_terms,
    states_quantity,
)


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
    assert expects_quantity("Which year was it released?")
    assert not expects_quantity("When does a timer fire if dueTime is omitted?")
    assert not expects_quantity("How do I restore a backup when the API is down?")
    assert states_quantity("It runs 3 replicas [1].")
    assert not states_quantity("It runs several replicas [1].")
    assert not states_quantity("The audit took place in 2021 [2].", "How much did the audit cost?")
    assert states_quantity("The audit cost $40,000 [2].", "How much did the audit cost?")


def test_content_words_leave_out_question_and_instruction_words() -> None:
    question = "Please describe in detail how the placement service rebalances actors, step by step"
    assert content_words(question) == ["placement", "service", "rebalances", "actors"]


def test_counted_things_are_what_a_quantity_question_counts() -> None:
    assert counted_things("How many messages per second can a sidecar publish to RabbitMQ?") == ["messag", "second"]
    assert counted_things("After how many failures is the app unhealthy?") == ["failur"]
    assert counted_things("What is the mean time to recovery of the scheduler, in seconds?") == ["second"]
    assert counted_things("How long are backups kept?") == []


def test_a_quantity_needs_the_counted_thing_next_to_the_number() -> None:
    question = "How many messages per second can a sidecar publish?"
    assert states_quantity(["A sidecar publishes about 2,000 messages per second [1]."], question)
    assert not states_quantity(["Retries are attempted 3 times [1].", "Messages are redelivered [2]."], question)
    assert not states_quantity(["The publishInitialRetryIntervalInMs setting is the one used [1]."], question)
    calls = "With reentrancy, how many reentrant calls to the same actor are allowed?"
    number_in_next_sentence = ["maxStackDepth controls how many reentrant calls can be made [1].", "It is 32 [1]."]
    assert states_quantity(number_in_next_sentence, calls)
    assert states_quantity(["Certificates are valid for one year [2]."], "How long are certificates valid?")
    assert not states_quantity(["Sentry is the one that issues them [2]."], "How long are certificates valid?")


def test_capitals_of_a_title_case_question_or_a_sentence_start_are_not_names() -> None:
    title = "Patient Controlled Therapy of Breathlessness in Palliative Care: A New Therapeutic Concept?"
    assert named_terms(title) == []
    assert named_terms("Depression in adolescence: Does comorbidity lead to poorer outcomes?") == []
    assert named_terms("Are the Dapr docs available in Japanese?") == ["Dapr", "Japanese"]
