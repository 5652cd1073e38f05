"""Environment capture: the replay envelope read from the system, never guessed.

``capture_envelope(workdir)`` returns the ``environment`` and ``code`` sections of run.yaml. A
fact that cannot be read (no git, no nvidia-smi, no torch) is left out and named in
``environment.missing`` with the reason.
"""

from __future__ import annotations

from gatekeeper.capture.envelope import Envelope, capture_envelope

__all__ = ["Envelope", "capture_envelope"]
