"""Series in the reports: the summary (final, best and their steps beside the baseline's), the
SVG chart (bounded, deterministic, escaped, no script), and the cut of a long curve."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from gatekeeper.inputs.bundle import load_bundle
from gatekeeper.models.verdict import Verdict
from gatekeeper.report import html
from gatekeeper.report.context import ReportContext
from gatekeeper.report.curves import MAX_POINTS, curves, direction, lttb, nice_ticks
from gatekeeper.report.markdown import render_markdown
from tests.unit.report.helpers_report import ALLOWED_TAGS, demo, gfm, tags

HOSTILE_NAME = "loss|<script>alert(1)</script>`x`*"


def bundle(root: Path, curves_: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    (root / "curves").mkdir()
    metrics = {"accuracy": {"value": 0.9}}
    for i, (name, text) in enumerate(sorted(curves_.items())):
        (root / "curves" / f"{i}.csv").write_text(text)
        metrics[name] = {"series": f"curves/{i}.csv"}
    run = {"schema": "gatekeeper.run/v1", "run_id": root.name, "model": "m", "metrics": metrics}
    (root / "run.yaml").write_text(yaml.safe_dump(run))
    return root


def csv(steps: np.ndarray, values: np.ndarray) -> str:
    return "step,value\n" + "".join(f"{int(s)},{float(v)!r}\n" for s, v in zip(steps, values,
                                                                         strict=True))


def context(tmp: Path, cand: dict[str, str], base: dict[str, str] | None = None
            ) -> tuple[Verdict, ReportContext]:
    verdict, ctx = demo("pass")
    return verdict, dataclasses.replace(
        ctx, candidate=load_bundle(bundle(tmp / "cand", cand)),
        baseline=load_bundle(bundle(tmp / "base", base)) if base is not None else None)


LOSS = "step,value\n0,2.5\n10,0.4\n20,0.2\n30,0.3\n"
BASE_LOSS = "step,value\n0,2.6\n10,0.5\n20,0.45\n"


def test_lttb_keeps_the_ends_and_a_spike_within_the_bound() -> None:
    x = np.arange(100_000, dtype=np.float64)
    y = np.exp(-x / 20_000)
    y[61_234] = 5.0  # one spike a fixed stride would step over
    keep = lttb(x, y, MAX_POINTS)
    assert keep.size == MAX_POINTS
    assert keep[0] == 0 and keep[-1] == x.size - 1
    assert 61_234 in keep
    assert np.all(np.diff(keep) > 0)
    assert np.array_equal(keep, lttb(x, y, MAX_POINTS))  # no randomness
    assert np.array_equal(lttb(x[:10], y[:10], MAX_POINTS), np.arange(10))


def test_ticks_are_round_numbers_inside_the_range() -> None:
    assert nice_ticks(-0.1, 2.4) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert nice_ticks(0, 1e6) == [0.0, 2e5, 4e5, 6e5, 8e5, 1e6]


def test_which_way_is_best(tmp_path: Path) -> None:
    assert direction("train/loss", None) == (False, "default")
    assert direction("val_perplexity", None) == (False, "default")
    assert direction("accuracy", None) == (True, "default")
    _verdict, ctx = demo("pass")  # its policy has a rule on accuracy (higher is better)
    assert direction("accuracy", ctx.policy) == (True, "policy rule")


def test_the_markdown_summary_as_github_renders_it(tmp_path: Path) -> None:
    verdict, ctx = context(tmp_path, {"loss": LOSS, "val/acc": "step,value\n1,0.5\n2,0.7\n"},
                           {"loss": BASE_LOSS})
    md = render_markdown(verdict, ctx)
    page = gfm(md)
    assert tags(page) <= ALLOWED_TAGS
    section = page.split("<h3>Curves</h3>", 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in re.findall(r"<tr>(.*?)</tr>",
                                                                       section, re.S)]
    rows = [r for r in rows if r]
    assert rows == [
        ["<code>loss</code>", "4", "0.3 at step 30", "0.2 at step 20", "lowest (default)",
         "0.45 at step 20", "0.45 at step 20"],
        ["<code>val/acc</code>", "2", "0.7 at step 2", "0.7 at step 2", "highest (default)",
         "—", "—"],
    ]


def test_max_items_caps_the_rows_and_counts_the_rest(tmp_path: Path) -> None:
    verdict, ctx = context(tmp_path, {f"c{i}": LOSS for i in range(5)})
    md = render_markdown(verdict, ctx, max_items=2)
    section = md.split("### Curves", 1)[1].split("<sub>", 1)[0]
    assert section.count("at step 30 |") == 2
    assert "| … 3 more | | | | | | |" in section


def test_the_svg_chart(tmp_path: Path) -> None:
    verdict, ctx = context(tmp_path, {"loss": LOSS}, {"loss": BASE_LOSS})
    page = html.render(verdict, ctx)
    svg = page.split("<h3><code>loss</code></h3>", 1)[1].split("</svg>", 1)[0]
    lines = re.findall(r'<polyline points="([^"]*)"', svg)
    assert len(lines) == 2  # the baseline first, the candidate drawn over it
    base_pts, cand_pts = ([tuple(map(float, p.split(","))) for p in line.split()]
                          for line in lines)
    assert len(cand_pts) == 4 and len(base_pts) == 3
    # the same steps sit at the same x; a lower loss sits lower on the chart
    assert [p[0] for p in cand_pts[:3]] == [p[0] for p in base_pts]
    assert cand_pts[2][1] > base_pts[2][1]
    labels = re.findall(r'<text [^>]*text-anchor="end">([^<]*)</text>', svg)
    assert labels[:5] == ["0.5", "1", "1.5", "2", "2.5"]  # the y ticks, then "step"
    assert re.findall(r'text-anchor="middle">([^<]*)</text>', svg) == ["0", "10", "20", "30"]
    assert "<title>candidate final: 0.3 at step 30</title>" in svg
    assert "<title>candidate best: 0.2 at step 20</title>" in svg
    assert "<script" not in page and "javascript:" not in page


def test_a_hostile_series_name_is_escaped_in_both_reports(tmp_path: Path) -> None:
    verdict, ctx = context(tmp_path, {HOSTILE_NAME: LOSS})
    page = html.render(verdict, ctx)
    assert "<script>" not in page
    assert "loss|&lt;script&gt;alert(1)&lt;/script&gt;`x`*" in page
    md = gfm(render_markdown(verdict, ctx))
    assert "<script>" not in md
    assert tags(md) <= ALLOWED_TAGS


def test_a_long_curve_is_cut_and_the_report_stays_bounded(tmp_path: Path) -> None:
    steps = np.arange(200_000, dtype=np.float64)
    values = 1.0 / (1.0 + steps / 1000.0)
    verdict, ctx = context(tmp_path, {"loss": csv(steps, values)},
                           {"loss": csv(steps[:150_000], values[:150_000] + 0.01)})
    page = html.render(verdict, ctx)
    for line in re.findall(r'<polyline points="([^"]*)"', page):
        assert len(line.split()) == MAX_POINTS
    assert len(page.encode()) < 120_000
    assert "cut down by largest-triangle-three-buckets" in page
    # the markers come from the full curve: the final point is the last step's
    assert f"candidate final: {values[-1]:.6g} at step 199,999" in page


def test_the_same_curves_give_the_same_bytes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    steps = np.cumsum(rng.integers(1, 5, size=5000)).astype(np.float64)
    values = rng.normal(size=5000).cumsum()
    text = csv(steps, values)
    first = context(tmp_path / "a", {"loss": text}, {"loss": text})
    second = context(tmp_path / "b", {"loss": text}, {"loss": text})
    assert html.render(*first) == html.render(*second)
    assert render_markdown(*first) == render_markdown(*second)


def test_no_series_no_section(tmp_path: Path) -> None:
    verdict, ctx = demo("pass")
    assert curves(ctx).shown == []
    assert "Curves" not in render_markdown(verdict, ctx)
    assert "<h2>Curves</h2>" not in html.render(verdict, ctx)


@pytest.mark.parametrize("curve", ["step,value\n5,1\n", "step,value\n0,1\n10,1\n"])
def test_a_single_point_or_a_flat_curve_still_draws(tmp_path: Path, curve: str) -> None:
    verdict, ctx = context(tmp_path, {"loss": curve})
    page = html.render(verdict, ctx)
    (line,) = re.findall(r'<polyline points="([^"]*)"', page)
    assert all(re.fullmatch(r"-?\d+\.\d,-?\d+\.\d", p) for p in line.split())
    assert "nan" not in page.lower().split("<h2>curves</h2>", 1)[1]
