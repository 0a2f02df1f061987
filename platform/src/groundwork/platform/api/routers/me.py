"""Who the caller is (the UI shows it and picks what to offer by role)."""

from __future__ import annotations

from fastapi import APIRouter

from groundwork.platform.api.deps import PrincipalDep
from groundwork.platform.api.schemas import MeOut

router = APIRouter(prefix="/v1", tags=["access"])


@router.get("/me", summary="The caller's tenant, name, role and groups")
def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        tenant_id=principal.tenant_id,
        name=principal.name,
        role=principal.role,
        groups=sorted(principal.groups),
        method=principal.method,
        key_id=principal.key_id,
    )
