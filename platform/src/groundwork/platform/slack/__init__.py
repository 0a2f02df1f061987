"""The Slack bot: mentions, direct messages, threads and `/ask`, answered by the shared answer flow from the
documents that every reader of the reply may read (docs/slack.md).

Framework-free parts (audience, blocks, questions, caches, stores) import no Slack SDK; `web_api`,
`bolt_app`, `events`, `socket_mode` and `testing` are the adapters that do.
"""
