"""Fuzz target: Kubernetes objects as users export them (events lists in JSON and YAML,
watch streams, cluster-info dumps); see targets.objects."""

from harness import fixture_files, run
from targets import SUFFIXES

if __name__ == "__main__":
    files = fixture_files("k8s_events", limit=6000)
    run("objects", [bytes([i]) + f for f in files for i in range(len(SUFFIXES))])
