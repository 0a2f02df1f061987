"""The two bases of every wire model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A response body: unknown fields are kept (`model_extra`), never an error."""

    model_config = ConfigDict(extra="allow")


class Request(BaseModel):
    """A request body: exactly the fields the server takes."""

    model_config = ConfigDict(extra="forbid")
