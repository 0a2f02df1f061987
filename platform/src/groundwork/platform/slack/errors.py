"""Errors of the Slack bot. Vendor exceptions (slack_sdk, aiohttp) are translated at the adapter boundary."""

from __future__ import annotations

from typing import Literal

from groundwork.platform.errors import PlatformError

RejectionReason = Literal["missing_headers", "stale", "forged", "replayed"]


class SlackError(PlatformError):
    """Base class of the Slack bot's errors."""

    code = "slack_error"


class SlackNotConfiguredError(SlackError):
    """The bot is off (no bot token) or the HTTP endpoint has no signing secret."""

    code = "slack_not_configured"


class SlackRequestRejectedError(SlackError):
    """A request to `/slack/events` that did not come from Slack, or not now: no valid signature, older than
    5 minutes, or seen before."""

    code = "invalid_slack_request"

    def __init__(self, reason: RejectionReason, message: str) -> None:
        super().__init__(message)
        self.reason: RejectionReason = reason


class SlackApiError(SlackError):
    """A Slack Web API call failed (an `ok: false` answer, a network error, a timeout)."""

    code = "slack_api_error"

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"Slack {method} failed: {error}")
        self.method = method
        self.error = error


class TooManyMembersError(SlackError):
    """A channel has more members than `slack.max_channel_members`: they are not resolved one by one."""

    code = "slack_channel_too_large"
