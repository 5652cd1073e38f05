"""Field types shared by the formats."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
GitCommit = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Status = Literal["pass", "warn", "block"]

STATUS_ORDER: dict[str, int] = {"pass": 0, "warn": 1, "block": 2}


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a policy must not silently disable a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
