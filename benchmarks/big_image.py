"""A 6000x8000 photo in a real JupyterLab and Chromium: time to open, and what a mask stroke sends.

(a) open: from sending ``reset()`` (the notebook's ``canvas.load(photo, mode="mask")``) to the kernel
    until the canvas marks the image drawn (`data-image-loaded`), in the page's own clock; Python's
    own share (``load()``: shrink, JPEG-encode, compress the mask) is timed in the kernel. Opened
    with no mask, then with a draft-like mask (two classes, a quarter of the image), which the
    page inflates and draws as its overlay before it marks the image drawn.
(b) strokes: real-mouse brush strokes (short, long, the whole diagonal, alternately in the fitted
    view) and their undos. Per stroke: websocket frames and bytes the page sends on the kernel's
    connection (Playwright's frame events, what goes over the wire) and the message as the kernel
    receives it; and the time from the pointer's release to the patch leaving the page (crop,
    compare, compress). Before patches, a stroke sent the whole class map: its size is computed,
    48,000,000 bytes plus the header, past the Jupyter server's 10 MiB websocket message limit.

The notebook is tests/browser/notebooks/big_image.ipynb (it generates the photo).

Run: .venv/bin/python benchmarks/big_image.py [--opens 7] [--strokes 6] [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from _common import ROOT, Figure, print_table, stats, write_json

sys.path.insert(0, str(ROOT / "tests" / "browser"))
import harness

W, H = 8000, 6000
MB = 1_000_000
BRUSH = 150
WHOLE_MAP_HEADER = {"kind": "mask", "image_id": 1, "width": W, "height": H}
DRAFT = """
yy, xx = np.ogrid[0:H, 0:W]
DRAFT = np.zeros((H, W), np.uint8)
DRAFT[(yy - 2000) ** 2 + (xx - 3000) ** 2 < 900**2] = 1
DRAFT[(yy - 4200) ** 2 + (xx - 5600) ** 2 < 1400**2] = 2
"""

# Timestamps of the canvas's pointer releases and of the mask patches the page sends the kernel.
INSTRUMENT = """() => {
    window.__ups = [];
    window.__patches = [];
    document.querySelector('.alw-stage canvas').addEventListener(
        'pointerup', () => window.__ups.push(performance.now()));
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    kernel.anyMessage.connect((_, args) => {
        const data = args.direction === 'send' && args.msg.header.msg_type === 'comm_msg'
            && args.msg.content.data;
        if (data && data.content && data.content.kind === 'mask_patch') {
            window.__patches.push(performance.now());
        }
    });
}"""

STROKES = [
    ((1000.0, 3000.0), (7000.0, 3800.0)),  # long, shallow
    ((500.0, 500.0), (7500.0, 5500.0)),  # the whole diagonal: a 48 MB rect, sent compressed
    ((3000.0, 3000.0), (3600.0, 3300.0)),  # short
]


class Bench:
    """The big-image notebook's page, its websocket frames and its kernel-side state file."""

    def __init__(self, page: Any, lab: harness.LabServer, frames: list[int]) -> None:
        self.page = page
        self.frames = frames
        self.state_file = lab.state_dir / "big_image.json"
        self.canvas = page.locator(".alw-stage canvas").first

    def open(self, code: str) -> float:
        """Run `code` (a reset) in the kernel; ms until its image is drawn."""
        opened = self.page.evaluate(harness.TIME_TO_DRAWN, code)
        if opened["ms"] is None:
            raise RuntimeError(f"image {opened['id']} was never drawn")
        self.image_id = int(opened["id"])
        return float(opened["ms"])

    def at(self, x: float, y: float) -> tuple[float, float]:
        """The page point over image point (x, y) in the fitted view."""
        bb = self.canvas.bounding_box()
        s = min(bb["width"] / W, bb["height"] / H)
        return bb["x"] + (bb["width"] - W * s) / 2 + x * s, bb["y"] + (
            bb["height"] - H * s
        ) / 2 + y * s

    def edit(self, act: Any, messages: int) -> tuple[list[int], list[Any]]:
        """Do `act` (a stroke or a key); the frames sent and the messages the kernel received."""
        self.frames.clear()
        act()
        state = harness.wait_for_state(
            self.state_file,
            lambda s: s["image_id"] == self.image_id and s["messages"] >= messages,
            timeout=60,
        )
        self.page.wait_for_timeout(300)  # Playwright hands over the frame events while it waits
        if state["rejected"]:
            raise RuntimeError(f"the kernel refused: {state['rejected']}")
        return list(self.frames), [m for m in state["received"] if m[0] != "fetch"][messages - 1 :]

    def stroke(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        mouse = self.page.mouse
        mouse.move(*self.at(*a))
        mouse.down()
        mouse.move(*self.at(*b), steps=25)
        mouse.up()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=7, help="times the photo is opened")
    parser.add_argument("--strokes", type=int, default=6, help="strokes painted (each undone)")
    parser.add_argument("--quick", action="store_true", help="3 opens and 3 strokes")
    args = parser.parse_args()
    if args.quick:
        args.opens, args.strokes = 3, 3

    from playwright.sync_api import sync_playwright

    lab = harness.start_lab()
    try:
        with sync_playwright() as p:
            browser = harness.launch_browser(p)
            page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
            frames: list[int] = []

            def on_socket(socket: Any) -> None:
                if "/api/kernels/" in socket.url:
                    socket.on("framesent", lambda payload: frames.append(len(payload)))

            page.on("websocket", on_socket)
            harness.open_notebook_in_workspace(page, lab, "big_image.ipynb", "big-image")
            harness.run_cell(page, 0, timeout=180)
            harness.run_cell(page, 1)
            page.wait_for_selector(".alw-stage[data-image-loaded]:not([data-image-loaded=''])")
            bench = Bench(page, lab, frames)
            bench.canvas.scroll_into_view_if_needed()
            page.evaluate(INSTRUMENT)
            open_ms = [bench.open("reset()") for _ in range(args.opens)]
            harness.kernel_exec(page, DRAFT)
            draft_ms = [bench.open("reset(mask=DRAFT)") for _ in range(args.opens)]
            sizes = harness.kernel_exec(page, "print(len(canvas.loaded_mask), len(canvas.image))")
            mask_bytes, image_bytes = (int(v) for v in sizes.split())
            state = harness.read_state(bench.state_file) or {}
            loads = [1000 * s for s in state["load_seconds"]]
            python_ms, draft_python_ms = loads[-2 * args.opens : -args.opens], loads[-args.opens :]
            bench.open(f"reset(tool='brush', brush_size={BRUSH}, active_class=2)")
            strokes, undos = [], []
            for n in range(args.strokes):
                a, b = STROKES[n % len(STROKES)]
                messages = 2 * n + 1
                strokes.append(bench.edit(lambda a=a, b=b: bench.stroke(a, b), messages))
                page.locator(".alw-stage").first.focus()
                undos.append(bench.edit(lambda: page.keyboard.press("Control+z"), messages + 1))
            harness.screenshot(page, "bench_big_image", page.locator(".alw-stage").first)
            ups, sent = page.evaluate("() => [window.__ups, window.__patches]")
            browser.close()
    finally:
        lab.stop()

    whole_map = W * H + len(json.dumps(WHOLE_MAP_HEADER))
    stroke_bytes = [sum(f) for f, _ in strokes]
    undo_bytes = [sum(f) for f, _ in undos]
    frame_counts = [len(f) for f, _ in strokes + undos]
    kernel_bytes = [m[1] + m[2] for _, ms in strokes for m in ms]
    release_ms = [s - u for u, s in zip(ups, sent[::2], strict=False)]
    d, dpy = stats(draft_ms), stats(draft_python_ms)
    o, py, sb, ub, rel = (
        stats(open_ms),
        stats(python_ms),
        stats(stroke_bytes),
        stats(undo_bytes),
        stats(release_ms),
    )
    figures = [
        Figure(
            "6000x8000 photo: load() -> drawn in the page, p50",
            o["p50"],
            "ms",
            "< 1,000 ms",
            o["p50"] < 1000,
            f"n={o['n']}, p95 {o['p95']:.0f} ms, max {o['max']:.0f} ms",
        ),
        Figure("  of which Python's load() (shrink, JPEG), p50", py["p50"], "ms"),
        Figure(
            "the same with a draft-like mask loaded, p50",
            d["p50"],
            "ms",
            "< 1,000 ms",
            d["p50"] < 1000,
            f"n={d['n']}, p95 {d['p95']:.0f} ms",
        ),
        Figure("  of which Python's load() (shrink, JPEG, compress), p50", dpy["p50"], "ms"),
        Figure(
            "bytes sent for the loaded mask / the image",
            mask_bytes,
            "B",
            detail=f"image {image_bytes:,} B (JPEG, 2000x1500); before: the mask raw, {W * H:,} B",
        ),
        Figure(
            "bytes per brush stroke, browser -> kernel (websocket), max",
            sb["max"],
            "B",
            "< 1 MB, one message",
            sb["max"] < MB and set(frame_counts) == {1},
            f"p50 {sb['p50']:,.0f} B; frames per stroke or undo: {sorted(set(frame_counts))}",
        ),
        Figure("bytes per undo of a stroke, max", ub["max"], "B", detail=f"p50 {ub['p50']:,.0f} B"),
        Figure(
            "before: one stroke sent the whole class map (computed)",
            whole_map,
            "B",
            detail=f"{whole_map / max(sb['max'], 1):,.0f}x the largest stroke now",
        ),
        Figure(
            "stroke released -> patch sent (browser), p50",
            rel.get("p50"),
            "ms",
            detail=f"max {rel.get('max', 0):.0f} ms (crop, compare, zlib of the stroke's rect)",
        ),
    ]
    print_table("A 6000x8000 photo in the browser (JupyterLab + Chromium)", figures)
    write_json(
        "big_image",
        figures,
        samples={
            "open_ms": open_ms,
            "python_load_ms": python_ms,
            "open_with_mask_ms": draft_ms,
            "python_load_with_mask_ms": draft_python_ms,
            "stroke_frames": [f for f, _ in strokes],
            "undo_frames": [f for f, _ in undos],
            "stroke_kernel_bytes": kernel_bytes,
            "release_to_patch_ms": release_ms,
            "strokes": [STROKES[n % len(STROKES)] for n in range(args.strokes)],
        },
        stats={
            "open": o,
            "python_load": py,
            "open_with_mask": d,
            "python_with_mask": dpy,
            "stroke_bytes": sb,
            "undo_bytes": ub,
            "release": rel,
        },
        whole_map_bytes=whole_map,
        loaded_mask_bytes=mask_bytes,
        image_bytes=image_bytes,
        at=time.strftime("%Y-%m-%d %H:%M:%S"),
    )


if __name__ == "__main__":
    main()
