"""MLflow over REST: the client and the tag names gatekeeper writes."""
