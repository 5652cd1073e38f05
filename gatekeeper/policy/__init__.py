"""Policies as code: loading (extends, branch overrides), base-branch sources, diffs."""
