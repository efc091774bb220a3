"""Fuzz target: container-runtime files (CRI with partial lines, Docker json-file, journald,
Loki) around any payload, sniffed, maybe gzipped and cut short; see targets.wrapped."""

from harness import fixture_files, run
from targets import PLACES

if __name__ == "__main__":
    files = fixture_files("cri", "docker_json", "journald_json", "loki_jsonl")
    seeds = [bytes([i]) + f for i in range(len(PLACES)) for f in files[:6]]
    run("wrapped", seeds + [bytes([0x80 | 3]) + f for f in files[:3]])
