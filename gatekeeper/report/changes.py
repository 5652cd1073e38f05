"""What changed between the baseline's and the candidate's envelopes: the table that tells a
reviewer why the numbers moved."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from gatekeeper.report.context import ReportContext

MAX_DIFF_ROWS = 60  # per section; the rest is counted, not listed
_HEX = re.compile(r"^[0-9a-f]{7,64}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$")
_GITHUB_URL = re.compile(r"^(?:https://github\.com/|git@github\.com:)"
                         r"([A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}?)(?:\.git)?/?$")


@dataclass(frozen=True)
class DiffRow:
    field: str
    baseline: str | None
    candidate: str | None
    changed: bool
    baseline_url: str | None = None
    candidate_url: str | None = None


@dataclass
class DiffSection:
    title: str
    rows: list[DiffRow] = field(default_factory=list)
    hidden: int = 0  # rows beyond MAX_DIFF_ROWS

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.rows) + self.hidden


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _flatten(prefix: str, value: Any, out: dict[str, str | None], depth: int = 0) -> None:
    if isinstance(value, dict) and value and depth < 4:
        for k in sorted(value, key=str):
            _flatten(f"{prefix}.{k}" if prefix else str(k), value[k], out, depth + 1)
    else:
        out[prefix] = _scalar(value)


def _model_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    dumped: dict[str, Any] = obj.model_dump(mode="json", exclude_none=True)
    return dumped


def commit_url(repo: str | None, commit: str | None, server: str = "https://github.com") -> \
        str | None:
    """A link for ``owner/name`` (or a github.com URL) and a hex commit; else None."""
    if not repo or not commit or not _HEX.match(commit):
        return None
    m = _GITHUB_URL.match(repo)
    slug = m.group(1) if m else (repo if _REPO.match(repo) else None)
    if slug is None or ".." in slug:
        return None
    return f"{server.rstrip('/')}/{slug}/commit/{commit}"


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _brief(value: str | None) -> str | None:
    """Full hashes are in the reproducibility section; 12 hex digits tell two versions apart."""
    if value is not None and _SHA256.match(value):
        return value[:12] + "…"
    return value


def _section(title: str, base: dict[str, str | None], cand: dict[str, str | None],
             urls: dict[str, tuple[str | None, str | None]] | None = None,
             changed_only: bool = False) -> DiffSection:
    urls = urls or {}
    rows: list[DiffRow] = []
    for key in sorted(set(base) | set(cand)):
        b, c = base.get(key), cand.get(key)
        changed = b != c
        if changed_only and not changed:
            continue
        bu, cu = urls.get(key, (None, None))
        rows.append(DiffRow(key, _brief(b), _brief(c), changed, bu, cu))
    # changed rows first: they are why the numbers moved
    rows.sort(key=lambda r: (not r.changed,))
    sec = DiffSection(title, rows[:MAX_DIFF_ROWS], max(0, len(rows) - MAX_DIFF_ROWS))
    return sec


def what_changed(ctx: ReportContext, server: str = "https://github.com") -> list[DiffSection]:
    if ctx.candidate is None:
        return []
    cr = ctx.candidate.run
    br = ctx.baseline.run if ctx.baseline is not None else None

    def flat(obj: Any, prefix: str = "") -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        _flatten(prefix, obj, out)
        return {k: v for k, v in out.items() if k}

    sections: list[DiffSection] = []
    sections.append(_section("Parameters", flat(br.params if br else {}), flat(cr.params)))

    def data_map(run: Any) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if run is None:
            return out
        for d in run.data:
            for key, value in sorted(_model_dict(d).items()):
                if key != "name":
                    out[f"{d.name}.{key}"] = _scalar(value)
        return out

    sections.append(_section("Data", data_map(br), data_map(cr)))

    def code_map(run: Any) -> dict[str, str | None]:
        return flat(_model_dict(run.code)) if run is not None and run.code else {}

    urls: dict[str, tuple[str | None, str | None]] = {}
    c_url = commit_url(cr.code.repo, cr.code.commit, server) if cr.code else None
    b_url = commit_url(br.code.repo, br.code.commit, server) if br and br.code else None
    urls["commit"] = (b_url, c_url)
    sections.append(_section("Code", code_map(br), code_map(cr), urls))

    def env_map(run: Any) -> dict[str, str | None]:
        if run is None or run.environment is None:
            return {}
        return flat(_model_dict(run.environment))

    sections.append(_section("Environment and hardware", env_map(br), env_map(cr)))

    def llm_map(run: Any) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        if run is None:
            return out
        if run.llm is not None:
            llm = run.llm
            for p in llm.prompts:
                out[f"prompt {p.id}.version"] = _scalar(p.version)
                out[f"prompt {p.id}.sha256"] = p.sha256
            for key, value in flat(_model_dict(llm.model)).items():
                out[f"model.{key}"] = value
            for key, value in flat(_model_dict(llm.judge)).items():
                out[f"judge.{key}"] = value
            for key, value in flat(_model_dict(llm.dataset)).items():
                out[f"dataset.{key}"] = value
        for name in sorted(run.metrics):
            judge = run.metrics[name].judge
            if judge is not None:
                for key, value in flat(_model_dict(judge)).items():
                    out[f"{name} judge.{key}"] = value
        return out

    llm_b, llm_c = llm_map(br), llm_map(cr)
    if llm_b or llm_c:
        sections.append(_section("Prompts and judge", llm_b, llm_c))
    return [s for s in sections if s.rows or s.hidden]
