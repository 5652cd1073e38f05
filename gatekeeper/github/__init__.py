"""GitHub integration: settings from the environment, a REST client, and the reporters that
post the sticky comment, the check run (or commit status), the job summary and step outputs.

Nothing here prints: functions return values (including workflow-command lines for the CLI to
print) or raise :class:`gatekeeper.errors.GitHubError`. The one exception is
:func:`gatekeeper.github.settings.settings_for_check`, which warns on stderr when ``check
--github`` falls back to reporting locally.
"""

from __future__ import annotations
