"""Progress reporting: a bar on a terminal, plain lines in a log, nothing when off."""

import io

import pytest

from lattiq.progress import format_seconds, progress, track


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_lines_when_not_a_terminal(monkeypatch):
    monkeypatch.delenv("LATTIQ_PROGRESS", raising=False)
    out = io.StringIO()
    with progress(10, desc="encode", unit="images", stream=out, every=0) as bar:
        assert bar.mode == "lines"
        for _ in range(4):
            bar.update(2)
        bar.set_postfix(loss=0.5)
        bar.update(2)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("encode: 2/10 images (20%)") and "ETA" in lines[0]
    assert lines[-2].startswith("encode: 10/10 images (100%)") and "[loss 0.5]" in lines[-2]
    assert lines[-1].startswith("encode: 10/10 images") and lines[-1].endswith("done [loss 0.5]")


def test_lines_are_rate_limited(monkeypatch):
    monkeypatch.delenv("LATTIQ_PROGRESS", raising=False)
    out = io.StringIO()
    with progress(1000, stream=out, every=3600) as bar:
        for _ in range(1000):
            bar.update()
    assert out.getvalue() == ""  # a short step prints nothing


def test_bar_on_a_terminal_and_off(monkeypatch):
    monkeypatch.delenv("LATTIQ_PROGRESS", raising=False)
    pytest.importorskip("tqdm")
    out = _Tty()
    with progress(5, desc="sampling", unit="tokens", stream=out) as bar:
        assert bar.mode == "bar"
        bar.update(5)
        bar.write("a message")
    text = out.getvalue()
    assert "sampling" in text and "5/5" in text and "a message" in text
    quiet = _Tty()
    with progress(5, stream=quiet, enabled=False) as bar:
        bar.update(5)
        bar.write("x")
    assert quiet.getvalue() == "" and bar.mode == "off"


def test_environment_overrides(monkeypatch):
    monkeypatch.setenv("LATTIQ_PROGRESS", "off")
    assert progress(3, stream=_Tty()).mode == "off"
    monkeypatch.setenv("LATTIQ_PROGRESS", "lines")
    monkeypatch.setenv("LATTIQ_PROGRESS_EVERY", "0")
    out = _Tty()
    assert list(track(range(3), stream=out, desc="t")) == [0, 1, 2]
    assert out.getvalue().splitlines()[0].startswith("t: 1/3 it")


@pytest.mark.parametrize("s,text", [(4.25, "4.2 s"), (42, "42 s"), (75.3, "1 min 15 s"),
                                    (4000, "1 h 6 min"), (float("inf"), "?")])
def test_format_seconds(s, text):
    assert format_seconds(s) == text
