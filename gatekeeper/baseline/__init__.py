"""The registry baseline: resolve it, verify it, and find the rollback target."""
