"""Benchmark: rendering the HTML report of a large run, and opening it in a browser.

Builds a run folder of 10,000 items x 3 judges x 2 orders (60,000 judge calls) with the
synthetic run writer of the report's tests: answers of 50-250 words, judges' raw outputs of
20-120 words, so about 85 MB of JSONL, as a verbose real judge panel would write. Then:

1. ``load_run``: reading run.json, judgments.jsonl and answers.jsonl (records' readers);
2. ``render``: the page, best of ``--repeat`` runs (the target: under 5 s);
3. the file's size (the target: under about 25 MB) and how much text had to be shortened;
4. with Chromium on PATH: time to the load event with the first page of the item table drawn,
   to filter the 10,000 items, and to open an item's drill-down (the page must not freeze).

    python bench/report_render.py [--items 10000] [--repeat 3] [--keep DIR] [--no-browser]

The run folder is built once (about 20 s: the audit runs on it) and kept with ``--keep``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic run writer and the DevTools driver

from test_report_runs import write_run  # noqa: E402

from evalkit.records._store import JUDGMENTS_FILE, REPORT_FILE  # noqa: E402
from evalkit.report import load_run, render  # noqa: E402
from evalkit.report._items import item_data  # noqa: E402


def build(folder: Path, items: int) -> Path:
    if (folder / JUDGMENTS_FILE).exists():
        print(f"run folder: {folder} (reused)")
        return folder
    start = time.perf_counter()
    write_run(folder, n_items=items, n_boot=200, answer_words=(50, 250), raw_words=(20, 120))
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    print(f"run folder: {folder}, {size:.0f} MB, built in {time.perf_counter() - start:.1f} s")
    return folder


def in_browser(report: Path) -> None:
    from test_report_browser import CHROMIUM, Browser

    if CHROMIUM is None:
        print("browser: chromium not on PATH, skipped")
        return
    with tempfile.TemporaryDirectory() as profile:
        browser = Browser(CHROMIUM, Path(profile))
        try:
            start = time.perf_counter()
            browser.open(report.as_uri())
            loaded = time.perf_counter() - start
            rows = browser.js("document.querySelectorAll('#item-rows tr.item').length")
            filtered = browser.js(
                "(() => { const t = performance.now();"
                " document.getElementById('f-flip').click();"
                " return performance.now() - t; })()"
            )
            opened = browser.js(
                "(() => { const t = performance.now();"
                " document.querySelector('#item-rows tr.item').click();"
                " return performance.now() - t; })()"
            )
            heap = browser.js("performance.memory ? performance.memory.usedJSHeapSize : null")
            errors = browser.errors()
        finally:
            browser.close()
    print(f"browser: load event with the first {rows} rows drawn {loaded:.2f} s")
    print(f"browser: filter 'a judge flipped' over all items {filtered:.0f} ms")
    print(f"browser: open a drill-down {opened:.0f} ms")
    if heap:
        print(f"browser: JS heap {heap / 1e6:.0f} MB")
    print(f"browser: console errors {len(errors)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the run folder here")
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = build(args.keep or Path(tmp) / "run", args.items)
        start = time.perf_counter()
        run = load_run(folder)
        load_s = time.perf_counter() - start
        n_calls = len(run.judgments)
        print(f"items {run.judgments['item_id'].nunique():,}, judge calls {n_calls:,}")
        print(f"load_run: {load_s:.2f} s")

        times, html = [], ""
        for _ in range(args.repeat):
            start = time.perf_counter()
            html = render(run)
            times.append(time.perf_counter() - start)
        print(
            f"render: best {min(times):.2f} s, median {statistics.median(times):.2f} s "
            f"over {args.repeat} runs (target < 5 s)"
        )
        report = folder / REPORT_FILE
        report.write_text(html, encoding="utf-8")
        size = report.stat().st_size / 1e6
        print(f"report.html: {size:.1f} MB (target < ~25 MB)")
        from evalkit.panel import combine_orders
        from evalkit.report._load import panel_frame

        items = item_data(
            run.judgments, run.answers, combine_orders(run.judgments), panel_frame(run.run)
        )
        if items.n_cut:
            print(f"texts shortened: {items.n_cut:,} to {items.text_cap:,} characters each")
        else:
            print("texts shortened: none")
        if not args.no_browser:
            in_browser(report)


if __name__ == "__main__":
    main()
