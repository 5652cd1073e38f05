"""Leaderboard traps (docs/leaderboard.md): the eval-set usage ledger, the reuse budget, the
Ladder release of scores, sealed holdouts and the winner's curse of sweeps.

``identity`` names the eval set a run used, ``ladder`` and ``sweep`` are the pure arithmetic
of the release and of the selection adjustment, ``context`` is what the check families read,
and ``step`` is the gate's step: read the ledger before the checks, record the decision after
the verdict.
"""
