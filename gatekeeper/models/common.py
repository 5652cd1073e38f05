"""Field types shared by the formats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    FiniteFloat,
    NonNegativeInt,
    StringConstraints,
)

from gatekeeper.safe_text import credential_kind, has_control


def _no_credential(value: str) -> str:
    # Bundle text is printed in logs, reports and PR comments: a credential there is leaked.
    kind = credential_kind(value)
    if kind is not None:
        raise ValueError(f"looks like a {kind}: credentials never belong in a bundle or a "
                         "policy (the value is not shown); remove it and rotate it")
    return value


def _no_control(value: str) -> str:
    # Names end up in terminal output and in GitHub Actions logs, where a line break followed
    # by "::" is a workflow command: identifiers stay on one line.
    if has_control(value):
        raise ValueError("must not contain control characters (line breaks, tabs, escapes)")
    return _no_credential(value)


def no_credentials(value: object) -> object:
    """Every string inside ``value`` (params and other free-form mappings) is credential-free."""
    if isinstance(value, str):
        _no_credential(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            no_credentials(key)
            no_credentials(item)
    elif isinstance(value, list | tuple):
        for item in value:
            no_credentials(item)
    return value


def _not_bool(value: object) -> object:
    # YAML reads `true` as a boolean, and pydantic would take it as 1.0: no real measurement is
    # a boolean, so a score of `true` is a mistake (or a trick), not a number.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    return value


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
GitCommit = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{7,64}$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1), AfterValidator(_no_control)]
# One-line text: ids, names, versions, paths. Free text (descriptions) stays plain ``str``.
Line = Annotated[str, AfterValidator(_no_control)]
# Free text (descriptions, reasons): line breaks allowed, credentials not.
Text = Annotated[str, AfterValidator(_no_credential)]
Status = Literal["pass", "warn", "block"]
# A finite real number: not NaN or ±inf, and not a boolean.
Number = Annotated[FiniteFloat, BeforeValidator(_not_bool)]
# Whole numbers (seeds, counts, sizes): not a boolean either, which pydantic would read as 0 or 1.
Int = Annotated[int, BeforeValidator(_not_bool)]
Count = Annotated[NonNegativeInt, BeforeValidator(_not_bool)]

STATUS_ORDER: dict[str, int] = {"pass": 0, "warn": 1, "block": 2}


def worst(statuses: Sequence[Status]) -> Status:
    out: Status = "pass"
    for s in statuses:
        if STATUS_ORDER[s] > STATUS_ORDER[out]:
            out = s
    return out


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a policy must not silently disable a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def login_key(login: str) -> str:
    """A GitHub login as GitHub compares it: without regard to case. Logins are ASCII; other
    text is kept as written, so that no letter ("\u212a", the Kelvin sign) folds into one."""
    return login.lower() if login.isascii() else login
