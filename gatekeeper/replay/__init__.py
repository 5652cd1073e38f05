"""Replay: compare a re-run's bundle with the original, field by field and metric by metric."""
