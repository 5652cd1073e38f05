"""Pure statistics for the gate: estimators, intervals, tests and power. No I/O."""
