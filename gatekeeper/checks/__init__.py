"""One module per family of checks. Each exposes ``run(ctx) -> list[Check]``; ``evaluate.py``
calls them in a fixed order so the verdict is the same bytes for the same inputs."""
