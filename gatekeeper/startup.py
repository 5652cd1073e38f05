"""The cyclic garbage collector while a `gatekeeper` process starts.

A command-line process imports about 400 modules and builds about 50 pydantic models and 100
dataclasses before it reads its input: some 10^5 objects that live until it exits, and no
garbage. Python's collector walks them again and again as they are created (0.02 to 0.05 s of a
0.3 s `check`, docs/performance.md). So the console entry point pauses it (``begin``); before
the command runs, ``done`` freezes what exists (``gc.freeze``: never walked again) and resumes
it; a command pauses it again around its own lazy imports (``with imports():``).

Only the console entry point calls ``begin``: in any other process (tests calling
``cli.main``, the Python API, the App's workers) ``done`` and ``imports`` change nothing.
"""

from __future__ import annotations

import gc

_command_line = False  # begin() was called: this process is `gatekeeper ...`
_paused = False  # the collector is paused by this module


def begin() -> None:
    """The console entry point: pause the collector while the command starts."""
    global _command_line
    _command_line = True
    _pause()


def done() -> None:
    """End a pause of this module: freeze what exists, resume the collector."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


class imports:  # lower case: it reads as a function, ``with startup.imports(): import ...``
    """The collector paused around a command's own lazy imports (command line only)."""

    def __enter__(self) -> None:
        if _command_line:
            _pause()

    def __exit__(self, *exc: object) -> None:
        done()


def _pause() -> None:
    global _paused
    if gc.isenabled():  # never resume what someone else paused
        gc.disable()
        _paused = True
