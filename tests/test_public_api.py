"""The package's public surface: what `import al_widget` offers, and what it costs."""

import subprocess
import sys

import al_widget as alw


def test_the_panel_and_canvas_are_public_names():
    assert {"Panel", "Canvas"} <= set(alw.__all__)


def test_tab_completion_finds_the_panel_and_canvas():
    assert {"Panel", "Canvas", "ActiveLoop", "Dataset"} <= set(dir(alw))


def test_every_public_name_resolves():
    for name in alw.__all__:
        assert getattr(alw, name) is not None


def test_importing_the_package_loads_no_widget_library():
    code = (
        "import sys, al_widget; "
        "print(sorted(m for m in ('ipywidgets', 'anywidget', 'ipyevents') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_asking_for_the_panel_loads_the_widgets():
    code = "import sys, al_widget; al_widget.Panel; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
