from __future__ import annotations

from gatekeeper.cli import main_entry

main_entry()
