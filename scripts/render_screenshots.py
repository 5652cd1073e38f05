"""Render the demo PR comments as GitHub shows them and screenshot them for docs/img/.

The comment Markdown goes through cmark-gfm (GitHub's renderer), is wrapped in GitHub's own
Markdown CSS (npm ``github-markdown-css``) and photographed by headless Chromium.

Needs: ``pip install cmarkgfm``; ``npm install --prefix /tmp/gh-css github-markdown-css``
(done by this script when missing); Debian ``chromium`` (``apt-get install -y chromium``).

    python scripts/render_screenshots.py [--out docs/img] [--css-prefix /tmp/gh-css]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<style>{css}</style>
<style>
body {{ margin: 0; background: #fff; }}
.frame {{ box-sizing: border-box; width: 920px; margin: 16px auto; border: 1px solid #d1d9e0;
          border-radius: 6px; }}
.frame-head {{ background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
               font: 14px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
               color: #59636e; }}
.markdown-body {{ padding: 16px 24px; }}
</style></head>
<body><div class="frame"><div class="frame-head"><b>github-actions</b> bot commented</div>
<div class="markdown-body">{body}</div></div></body></html>
"""


def ensure_css(prefix: Path) -> str:
    css = prefix / "node_modules" / "github-markdown-css" / "github-markdown-light.css"
    if not css.is_file():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
                        "github-markdown-css"], check=True, timeout=300)
    return css.read_text(encoding="utf-8")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("chromium not found: apt-get install -y chromium")


def screenshot(html_file: Path, png: Path, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="gk-chrome-") as profile:
        subprocess.run([
            chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--screenshot={png}", f"--window-size=1000,{height}", html_file.as_uri(),
        ], check=True, timeout=120, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    import cmarkgfm
    from cmarkgfm.cmark import Options

    from gatekeeper.report.comment import marker, render_comment
    from tests.unit.report.helpers_report import demo

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--css-prefix", type=Path, default=Path("/tmp/gh-css"))
    parser.add_argument("--height", type=int, default=2200)
    parser.add_argument("--open-details", action="store_true",
                        help="expand the collapsed sections in the screenshot")
    args = parser.parse_args(argv)
    css = ensure_css(args.css_prefix)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gk-shots-") as tmp:
        for name in ("pass", "warn", "block"):
            verdict, ctx = demo(name)
            comment = render_comment(verdict, ctx, marker=marker(verdict.policy.name))
            body = cmarkgfm.github_flavored_markdown_to_html(comment,
                                                            options=Options.CMARK_OPT_UNSAFE)
            if args.open_details:
                body = body.replace("<details>", "<details open>")
            page = Path(tmp) / f"{name}.html"
            page.write_text(PAGE.format(css=css, body=body), encoding="utf-8")
            png = args.out / f"comment-{name}{'-expanded' if args.open_details else ''}.png"
            screenshot(page, png, args.height)
            sys.stdout.write(f"wrote {png}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
