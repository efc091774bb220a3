"""Diagnose: name the cause of each incident (``registry`` lists the rules; ``run`` applies them)."""
