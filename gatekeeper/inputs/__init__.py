"""Reading a run bundle: files, YAML, score and trace files, envelope fields."""
