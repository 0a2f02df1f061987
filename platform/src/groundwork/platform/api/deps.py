"""Dependency aliases for route handlers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from groundwork.platform.answers.service import AnswerService
from groundwork.platform.config import Settings
from groundwork.platform.conversations import ConversationStore
from groundwork.platform.documents import DocumentService
from groundwork.platform.errors import NotReadyError
from groundwork.platform.search import SearchService
from groundwork.platform.services import Services


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise NotReadyError("the server is starting")
    return services


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_documents(services: Annotated[Services, Depends(get_services)]) -> DocumentService:
    return services.documents


def get_search(services: Annotated[Services, Depends(get_services)]) -> SearchService:
    return services.search


def get_answers(services: Annotated[Services, Depends(get_services)]) -> AnswerService:
    return services.answers


def get_conversations(services: Annotated[Services, Depends(get_services)]) -> ConversationStore:
    return services.conversations


AnswersDep = Annotated[AnswerService, Depends(get_answers)]
ConversationsDep = Annotated[ConversationStore, Depends(get_conversations)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DocumentsDep = Annotated[DocumentService, Depends(get_documents)]
SearchDep = Annotated[SearchService, Depends(get_search)]
ServicesDep = Annotated[Services, Depends(get_services)]
