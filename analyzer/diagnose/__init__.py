"""Diagnose: name each incident's cause (``registry`` lists the rules, ``run`` applies them)."""
