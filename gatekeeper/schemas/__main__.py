from __future__ import annotations

from gatekeeper.schemas import write_all

write_all()
