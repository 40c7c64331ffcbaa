"""Report triage: the taxonomy, the classifier and the commands that train, evaluate and run it."""
