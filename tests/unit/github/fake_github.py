"""A local GitHub REST fake (pytest-httpserver) that validates every request it receives
against GitHub's official OpenAPI description; any invalid request fails the test at teardown.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "github"
SPEC_PATH = FIXTURES / "api.github.com.subset.json"
EVENTS = FIXTURES / "events"
TOKEN = "ghs_testtoken0123456789abcdefSECRET"
SPEC_HOST = "https://api.github.com"
# The identity TOKEN comments as, like a workflow's GITHUB_TOKEN; and a PR author's account.
BOT_USER = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
HUMAN_USER = {"login": "mallory", "id": 1234567, "type": "User"}


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


@dataclass
class SpecRequest:
    """openapi-core's Request protocol for a request the fake received."""

    method: str
    path: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters
    host_url: str = SPEC_HOST


@dataclass
class PatternSpecRequest(SpecRequest):
    """For operations whose ``{path}`` parameter spans slashes (GET contents): GitHub takes
    ``contents/policies/release.yaml`` literally, which a template match cannot express, so the
    pattern and path parameters are given (openapi-core's SupportsPathPattern)."""

    path_pattern: str = ""


SLASH_PARAM_ROUTES = (
    (
        re.compile(r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/contents/(?P<path>.+)"),
        "/repos/{owner}/{repo}/contents/{path}",
    ),
)


@dataclass
class Fault:
    method: str
    path: str  # regex over the API path
    response: Callable[[], Response]
    remaining: int = 1


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
    )


@dataclass
class FakeGitHub:
    server: HTTPServer
    spec: OpenAPI
    prefix: str = ""
    errors: list[str] = field(default_factory=list)
    log: list[Logged] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    rulesets: dict[int, dict[str, Any]] = field(default_factory=dict)
    contents: dict[tuple[str, str], str] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    commit_pulls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    next_id: int = 1000
    # As a GitHub App's API: requests to /app... must carry a JWT the public key verifies; the
    # installation token it issues is TOKEN. None: the fake is a workflow's API (TOKEN only).
    app: AppIdentity | None = None
    comment_user: dict[str, Any] = field(default_factory=lambda: dict(BOT_USER))
    installations: dict[str, int] = field(default_factory=dict)  # "owner/repo" → id
    artifacts: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # run id → list
    artifact_zips: dict[int, bytes] = field(default_factory=dict)  # artifact id → the zip
    jwts: list[dict[str, Any]] = field(default_factory=list)  # verified App JWT claims

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def api_url(self) -> str:
        return self.server.url_for(self.prefix or "/").rstrip("/")

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        headers: dict[str, str] | None = None,
        message: str = "error",
        times: int = 1,
    ) -> None:
        self.faults.append(
            Fault(method, path, lambda: json_response({"message": message}, status, headers), times)
        )

    def add_comments(
        self, issue: int, bodies: list[str], user: dict[str, Any] | None = None
    ) -> None:
        """Comments already on the PR, by ``user`` (the token's bot unless given)."""
        for body in bodies:
            self._new_comment(issue, body, user or BOT_USER)

    def requests(self, method: str | None = None, pattern: str = ".*") -> list[Logged]:
        return [
            r
            for r in self.log
            if (method is None or r.method == method) and re.fullmatch(pattern, r.path)
        ]

    # -- request handling -------------------------------------------------------------------

    def _validate(self, request: Request, path: str) -> None:
        parameters = RequestParameters(
            query=request.args, header=request.headers, cookie=request.cookies, path={}
        )
        common = {
            "method": request.method.lower(),
            "path": path,
            "body": request.get_data() or None,
            "content_type": request.content_type or "",
            "parameters": parameters,
        }
        spec_request: SpecRequest = SpecRequest(**common)
        for regex, pattern in SLASH_PARAM_ROUTES:
            match = regex.fullmatch(path)
            if match:
                parameters.path = match.groupdict()
                spec_request = PatternSpecRequest(**common, path_pattern=pattern)
        try:
            self.spec.validate_request(spec_request)
        except Exception as exc:  # every openapi-core error class: record, fail at teardown
            detail = f" ({exc.__cause__})" if exc.__cause__ else ""
            self.errors.append(f"{request.method} {path}: {type(exc).__name__}: {exc}{detail}")
        expected = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "Authorization": f"Bearer {TOKEN}",
        }
        if self.app is not None and APP_PATHS.fullmatch(path):
            del expected["Authorization"]
            self._verify_jwt(request, path)
        for name, value in expected.items():
            if request.headers.get(name) != value:
                self.errors.append(f"{request.method} {path}: header {name} is wrong")
        if not (request.headers.get("User-Agent") or "").startswith("gatekeeper/"):
            self.errors.append(f"{request.method} {path}: no gatekeeper User-Agent")

    def _verify_jwt(self, request: Request, path: str) -> None:
        """GitHub's rules for an App JWT: RS256 by the App's key, iss the App id, iat in the
        past, exp at most 10 minutes ahead."""
        assert self.app is not None
        auth = request.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            self.errors.append(f"{request.method} {path}: no App JWT")
            return
        try:
            claims = jwt.decode(auth[len("Bearer "):], self.app.public_pem, algorithms=["RS256"],
                                options={"require": ["iat", "exp", "iss"]})
        except jwt.PyJWTError as exc:
            self.errors.append(f"{request.method} {path}: App JWT refused: {exc}")
            return
        now = time.time()
        if claims["iss"] != str(self.app.app_id) or claims["iat"] > now or \
                claims["exp"] > now + 600:
            self.errors.append(f"{request.method} {path}: App JWT claims wrong: {claims}")
        self.jwts.append(claims)

    def _blob(self, request: Request) -> Response:
        """Where the artifact's 302 points: storage that must not get the token."""
        self.log.append(Logged(request.method, request.path, dict(request.args), None,
                               dict(request.headers)))
        if request.headers.get("Authorization"):
            self.errors.append(f"{request.path}: the artifact storage was sent a credential")
        for fault in self.faults:
            if fault.remaining > 0 and re.fullmatch(fault.path, request.path):
                fault.remaining -= 1
                return fault.response()
        data = self.artifact_zips.get(int(request.path.rsplit("/", 1)[-1]))
        if data is None:
            return json_response({"message": "Not Found"}, 404)
        return Response(data, 200, content_type="application/zip")

    def handle(self, request: Request) -> Response:
        if request.path.startswith(BLOB_PREFIX):
            return self._blob(request)
        if not request.path.startswith(self.prefix + "/"):
            self.errors.append(f"{request.method} {request.path}: outside the API prefix")
            return json_response({"message": "Not Found"}, 404)
        path = request.path[len(self.prefix) :]
        self._validate(request, path)
        body = json.loads(request.get_data()) if request.get_data() else None
        self.log.append(
            Logged(request.method, path, dict(request.args), body, dict(request.headers))
        )
        for fault in self.faults:
            if (
                fault.remaining > 0
                and fault.method == request.method
                and re.fullmatch(fault.path, path)
            ):
                fault.remaining -= 1
                return fault.response()
        return self._route(request, path, body)

    def _route(self, request: Request, path: str, body: Any) -> Response:
        m = request.method
        repo = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
        routes: list[tuple[str, str, Callable[..., Response]]] = [
            ("GET", repo + r"/issues/(?P<n>\d+)/comments", self._list_comments),
            ("POST", repo + r"/issues/(?P<n>\d+)/comments", self._create_comment),
            ("PATCH", repo + r"/issues/comments/(?P<cid>\d+)", self._update_comment),
            ("DELETE", repo + r"/issues/comments/(?P<cid>\d+)", self._delete_comment),
            ("GET", r"/app", self._get_app),
            ("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", self._access_token),
            ("GET", repo + r"/installation", self._repo_installation),
            ("GET", repo + r"/actions/runs/(?P<run>\d+)/artifacts", self._list_artifacts),
            ("GET", repo + r"/actions/artifacts/(?P<aid>\d+)/zip", self._artifact_zip),
            ("GET", repo + r"/commits/(?P<ref>[0-9a-f]+)/check-runs", self._list_check_runs),
            ("POST", repo + r"/check-runs", self._create_check_run),
            ("PATCH", repo + r"/check-runs/(?P<cid>\d+)", self._update_check_run),
            ("POST", repo + r"/statuses/(?P<sha>[0-9a-f]+)", self._create_status),
            ("GET", repo + r"/pulls/(?P<n>\d+)", self._get_pull),
            ("GET", repo + r"/pulls/(?P<n>\d+)/reviews", self._list_reviews),
            ("GET", repo + r"/commits/(?P<sha>[0-9a-f]+)/pulls", self._commit_pulls),
            ("GET", repo + r"/contents/(?P<file>.+)", self._get_contents),
            ("GET", repo + r"/rulesets", self._list_rulesets),
            ("POST", repo + r"/rulesets", self._create_ruleset),
            ("GET", repo + r"/rulesets/(?P<rid>\d+)", self._get_ruleset),
            ("PUT", repo + r"/rulesets/(?P<rid>\d+)", self._put_ruleset),
        ]
        for method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if method == m and match:
                return handler(request, body, **match.groupdict())
        return json_response({"message": "Not Found"}, 404)

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def _new_comment(self, issue: int, body: str, user: dict[str, Any]) -> dict[str, Any]:
        cid = self._id()
        comment = {
            "id": cid,
            "body": body,
            "user": dict(user),
            "html_url": f"https://github.com/o/r/pull/{issue}#issuecomment-{cid}",
        }
        self.comments.setdefault(issue, []).append(comment)
        return comment

    def add_review(self, pr: int, login: str, state: str, commit_id: str = "0" * 40) -> None:
        """A review of pull request ``pr`` on ``commit_id`` (chronological, as GitHub lists
        them)."""
        rid = self._id()
        listed = self.reviews.setdefault(pr, [])
        listed.append({
            "id": rid, "user": {"login": login, "id": rid, "type": "User"}, "state": state,
            "submitted_at": f"2026-11-26T10:{len(listed):02d}:00Z", "commit_id": commit_id})

    def _commit_pulls(
        self, request: Request, body: Any, owner: str, repo: str, sha: str
    ) -> Response:
        return json_response(self.commit_pulls.get(sha, []))

    def _list_reviews(
        self, request: Request, body: Any, owner: str, repo: str, n: str
    ) -> Response:
        return _page(request, self.reviews.get(int(n), []))

    def _list_comments(
        self, request: Request, body: Any, owner: str, repo: str, n: str
    ) -> Response:
        return _page(request, self.comments.get(int(n), []))

    def _create_comment(
        self, request: Request, body: Any, owner: str, repo: str, n: str
    ) -> Response:
        return json_response(self._new_comment(int(n), body["body"], self.comment_user), 201)

    def _update_comment(
        self, request: Request, body: Any, owner: str, repo: str, cid: str
    ) -> Response:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(cid):
                    comment["body"] = body["body"]
                    return json_response(comment)
        return json_response({"message": "Not Found"}, 404)

    def _delete_comment(
        self, request: Request, body: Any, owner: str, repo: str, cid: str
    ) -> Response:
        for comments in self.comments.values():
            for comment in comments:
                if comment["id"] == int(cid):
                    comments.remove(comment)
                    return Response(status=204)
        return json_response({"message": "Not Found"}, 404)

    def _get_app(self, request: Request, body: Any) -> Response:
        assert self.app is not None
        return json_response({"id": self.app.app_id, "slug": self.app.slug,
                              "name": self.app.slug})

    def _access_token(self, request: Request, body: Any, iid: str) -> Response:
        if int(iid) not in self.installations.values():
            return json_response({"message": "Not Found"}, 404)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
        return json_response({"token": TOKEN, "expires_at": expires}, 201)

    def _repo_installation(self, request: Request, body: Any, owner: str, repo: str
                           ) -> Response:
        iid = self.installations.get(f"{owner}/{repo}")
        if iid is None:
            return json_response({"message": "Not Found"}, 404)
        return json_response({"id": iid, "app_id": self.app.app_id if self.app else 0})

    def _list_artifacts(self, request: Request, body: Any, owner: str, repo: str, run: str
                        ) -> Response:
        items = [a for a in self.artifacts.get(int(run), [])
                 if request.args.get("name") in (None, a["name"])]
        return json_response({"total_count": len(items), "artifacts": items})

    def _artifact_zip(self, request: Request, body: Any, owner: str, repo: str, aid: str
                      ) -> Response:
        location = self.server.url_for(f"{BLOB_PREFIX}{aid}")
        return Response(status=302, headers={"Location": location})

    def _list_check_runs(self, request: Request, body: Any, owner: str, repo: str, ref: str
                         ) -> Response:
        runs = [r for r in self.check_runs.values() if r.get("head_sha") == ref
                and request.args.get("check_name") in (None, r.get("name"))
                and request.args.get("app_id") in (None, str(r["app"]["id"]))]
        return json_response({"total_count": len(runs), "check_runs": runs})

    def _create_check_run(self, request: Request, body: Any, owner: str, repo: str) -> Response:
        rid = self._id()
        run = dict(body, id=rid, html_url=f"https://github.com/{owner}/{repo}/runs/{rid}")
        run["app"] = {"id": self.app.app_id if self.app else 15368, "slug": "github-actions"}
        run["all_annotations"] = list(body.get("output", {}).get("annotations", []))
        self.check_runs[rid] = run
        return json_response(run, 201)

    def _update_check_run(
        self, request: Request, body: Any, owner: str, repo: str, cid: str
    ) -> Response:
        run = self.check_runs[int(cid)]
        run["all_annotations"].extend(body.get("output", {}).get("annotations", []))
        run.update({k: v for k, v in body.items() if k != "output"})
        if "output" in body:
            # title and summary change; annotations accumulate in all_annotations
            run["output"] = {**run.get("output", {}), **{
                k: v for k, v in body["output"].items() if k != "annotations"}}
        return json_response(run)

    def _create_status(
        self, request: Request, body: Any, owner: str, repo: str, sha: str
    ) -> Response:
        status = dict(
            body, sha=sha, url=f"https://api.github.com/repos/{owner}/{repo}/statuses/{sha}"
        )
        self.statuses.append(status)
        return json_response(status, 201)

    def _get_pull(self, request: Request, body: Any, owner: str, repo: str, n: str) -> Response:
        if int(n) not in self.pulls:
            return json_response({"message": "Not Found"}, 404)
        return json_response(self.pulls[int(n)])

    def _get_contents(
        self, request: Request, body: Any, owner: str, repo: str, file: str
    ) -> Response:
        import base64

        ref = request.args.get("ref", "")
        text = self.contents.get((ref, file))
        if text is None:
            return self._list_folder(ref, file)
        content = base64.b64encode(text.encode()).decode()
        return json_response(
            {"type": "file", "encoding": "base64", "path": file, "content": content}
        )

    def _list_folder(self, ref: str, folder: str) -> Response:
        children: dict[str, str] = {}
        for at, path in self.contents:
            if at == ref and path.startswith(folder + "/"):
                name, _, rest = path[len(folder) + 1 :].partition("/")
                children[name] = "dir" if rest else "file"
        if not children:
            return json_response({"message": "Not Found"}, 404)
        return json_response([{"type": kind, "name": name, "path": f"{folder}/{name}"}
                              for name, kind in sorted(children.items())])

    def add_tree(self, ref: str, root: Path, under: str) -> None:
        """Every file below ``root`` as repository files ``under/...`` at ``ref``."""
        for path in sorted(root.rglob("*")):
            if path.is_file():
                rel = path.relative_to(root).as_posix()
                self.contents[(ref, f"{under}/{rel}")] = path.read_text(encoding="utf-8")

    def add_artifact(self, run_id: int, name: str, data: bytes) -> int:
        aid = self._id()
        self.artifacts.setdefault(run_id, []).append(
            {"id": aid, "name": name, "size_in_bytes": len(data), "expired": False})
        self.artifact_zips[aid] = data
        return aid

    def _list_rulesets(self, request: Request, body: Any, owner: str, repo: str) -> Response:
        return json_response([{"id": r["id"], "name": r["name"]} for r in self.rulesets.values()])

    def _create_ruleset(self, request: Request, body: Any, owner: str, repo: str) -> Response:
        rid = self._id()
        self.rulesets[rid] = dict(body, id=rid)
        return json_response(self.rulesets[rid], 201)

    def _get_ruleset(
        self, request: Request, body: Any, owner: str, repo: str, rid: str
    ) -> Response:
        return json_response(self.rulesets[int(rid)])

    def _put_ruleset(
        self, request: Request, body: Any, owner: str, repo: str, rid: str
    ) -> Response:
        self.rulesets[int(rid)] = dict(body, id=int(rid))
        return json_response(self.rulesets[int(rid)])


APP_PATHS = re.compile(r"/app(/.*)?|/repos/[^/]+/[^/]+/installation")
BLOB_PREFIX = "/_blob/artifacts/"


@dataclass(frozen=True)
class AppIdentity:
    app_id: int
    slug: str
    public_pem: str


def zip_folder(folder: Path) -> bytes:
    """The folder's files at the zip's root, as actions/upload-artifact writes a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


@pytest.fixture(params=[""], ids=["dotcom"])
def api_prefix(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def github(httpserver: HTTPServer, openapi: OpenAPI, api_prefix: str) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(httpserver, openapi, prefix=api_prefix)
    yield fake
    assert not fake.errors, "invalid requests (per the OpenAPI description):\n" + "\n".join(
        fake.errors
    )
    httpserver.check_assertions()


class FakeSleep:
    """Records waits instead of sleeping; the clock advances by what was waited."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


def event_copy(
    tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], None] | None = None
) -> Path:
    """A real webhook payload written to tmp (optionally edited) for GITHUB_EVENT_PATH."""
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    path = tmp_path / f"event-{name}"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _page(request: Request, items: list[dict[str, Any]]) -> Response:
    """One page of a list as GitHub serves it: ``per_page``/``page`` and a ``Link`` to the next."""
    per_page = int(request.args.get("per_page", 30))
    page = int(request.args.get("page", 1))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {}
    if page * per_page < len(items):
        query = urlencode({"per_page": per_page, "page": page + 1})
        headers["Link"] = f'<{request.base_url}?{query}>; rel="next"'
    return json_response(chunk, 200, headers)
