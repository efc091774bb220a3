"""JSON-lines engine: decode the declared key paths of every line, vectorized.

``str.json_decode`` fails a whole column on one bad line, so a failing batch is split in
halves until the bad lines are isolated; only those few go through Python's ``json``. Every
leaf is decoded as a string (numbers included) and typed later, so a value of an unexpected
type never drops a key silently (the NDJSON reader's ``infer_schema_length`` trap).
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from analyzer.formats import FormatSpec
from analyzer.formats.check import group_names
from analyzer.ingest.tally import OUTCOME

SMALL_BATCH = 16
#: Frame columns a top-level JSON key of the same name must not overwrite (Loki's `line`).
RESERVED = ("line", "raw", "file", "text", OUTCOME)


def key_column(path: str) -> str:
    """The frame column a decoded key path lands in."""
    return f"json:{path}" if path in RESERVED else path


def get_path(obj: Any, path: str | tuple[str, ...]) -> Any:
    """The value at a dotted key path of decoded JSON, or None where the path ends early."""
    for part in path.split(".") if isinstance(path, str) else path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def struct_dtype(paths: list[str]) -> pl.Struct:
    """A nested Struct with a String leaf for every dotted key path."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        parts = path.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # a path is both a leaf and a prefix: keep the prefix
                child = node[part] = {}
            node = child
        node.setdefault(parts[-1], None)

    def build(node: dict[str, Any]) -> pl.Struct:
        return pl.Struct(
            {k: (build(v) if isinstance(v, dict) else pl.String) for k, v in node.items()}
        )

    return build(tree)


def _leaf(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        # A lone surrogate escape ("\udfff") decodes in Python but is not UTF-8.
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))  # as polars' decoder writes 502.0: the same line, the same status
    return json.dumps(value)


def _python_decode(text: str | None, dtype: pl.Struct) -> tuple[dict[str, Any] | None, bool]:
    try:
        obj = json.loads(text) if text is not None else None
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None, False
    if not isinstance(obj, dict):
        return None, False

    def pick(node: Any, dt: pl.Struct) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fld in dt.fields:
            value = node.get(fld.name) if isinstance(node, dict) else None
            if isinstance(fld.dtype, pl.Struct):
                out[fld.name] = pick(value, fld.dtype)
            else:
                out[fld.name] = _leaf(value)
        return out

    return pick(obj, dtype), True


def decode(texts: pl.Series, dtype: pl.Struct) -> tuple[pl.Series, pl.Series]:
    """(decoded struct, ok) for a String series of JSON objects; bad lines give ok=False."""
    try:
        decoded = texts.str.json_decode(dtype)
        return decoded, pl.Series("ok", [True] * len(texts), dtype=pl.Boolean)
    except BaseException as err:  # noqa: BLE001 - polars raises a PanicException (BaseException) here
        if isinstance(err, KeyboardInterrupt | SystemExit | MemoryError):
            raise
    if len(texts) <= SMALL_BATCH:
        pairs = [_python_decode(t, dtype) for t in texts.to_list()]
        values = [v for v, _ in pairs]
        return (
            pl.Series(texts.name, values, dtype=dtype),
            pl.Series("ok", [ok for _, ok in pairs], dtype=pl.Boolean),
        )
    mid = len(texts) // 2
    a, ok_a = decode(texts.slice(0, mid), dtype)
    b, ok_b = decode(texts.slice(mid), dtype)
    return a.append(b), ok_a.append(ok_b)


def _flatten_exprs(column: str, dtype: pl.Struct, prefix: str = "") -> list[pl.Expr]:
    exprs: list[pl.Expr] = []

    def walk(expr: pl.Expr, dt: pl.Struct, path: str) -> None:
        for fld in dt.fields:
            name = f"{path}{fld.name}"
            sub = expr.struct.field(fld.name)
            if isinstance(fld.dtype, pl.Struct):
                walk(sub, fld.dtype, name + ".")
            else:
                exprs.append(sub.alias(key_column(name)))

    walk(pl.col(column), dtype, prefix)
    return exprs


def _outcome(spec: FormatSpec) -> pl.Expr:
    missing = pl.lit(False)
    for path in spec.require:
        missing = missing | pl.col(key_column(path)).is_null()
    return (
        pl.when(pl.col(OUTCOME).is_not_null())
        .then(pl.col(OUTCOME))
        .when(~pl.col("_candidate"))
        .then(pl.lit("reject: not a JSON object"))
        .when(~pl.col("_ok"))
        .then(pl.lit("reject: malformed JSON"))
        .when(missing)
        .then(pl.lit(f"reject: missing key(s) required by {spec.name}: {', '.join(spec.require)}"))
        .otherwise(None)
    )


def _decoded_paths(spec: FormatSpec) -> list[str]:
    # `json:text` in a spec is the key `text` (see ``key_column``); a prefix group is no key.
    own = set(prefix_groups(spec))
    return [
        p.removeprefix("json:")
        for p in spec.field_names()
        if p and p not in spec.json_text and p not in own
    ]


BODY = "_body"  # a line's JSON once its ``prefix`` is stripped


def prefix_groups(spec: FormatSpec) -> list[str]:
    return [g for g in group_names(spec.prefix) if not g.isdigit()] if spec.prefix else []


def _unprefixed(frame: Any, spec: FormatSpec, column: str) -> tuple[Any, str]:
    """``spec.prefix`` split off each line that has it: its named groups become columns and
    the JSON after it is the column to decode (a line without the prefix is decoded whole)."""
    if not spec.prefix:
        return frame, column
    prefix = f"^(?:{spec.prefix})"
    groups = pl.col(column).str.extract_groups(prefix)
    return frame.with_columns(
        *(groups.struct.field(g).alias(key_column(g)) for g in prefix_groups(spec)),
        pl.col(column).str.replace(prefix, "").alias(BODY),
    ), BODY


def json_path(path: str) -> str:
    """The JSONPath of a spec key path (``$``-paths are already JSONPath)."""
    return path if path.startswith("$") else "$." + path


def _json_text_exprs(spec: FormatSpec, column: str) -> list[pl.Expr]:
    """``json_text`` keys: objects and arrays as JSON text, scalars as themselves. A JSONPath
    match never fails on a value's type (the struct decoder fails the whole batch)."""
    return [
        pl.when(pl.col("_candidate"))
        .then(pl.col(column).str.json_path_match(json_path(path)))
        .otherwise(None)
        .alias(key_column(path))
        for path in spec.json_text
    ]


def _candidate(column: str) -> pl.Expr:
    return (
        pl.col(column).str.strip_chars_start().str.starts_with("{") & pl.col(OUTCOME).is_null()
    ).fill_null(False)


def parse_jsonl(lf: pl.LazyFrame, spec: FormatSpec, *, column: str = "text") -> pl.LazyFrame:
    """Lazy, optimistic: fails at collect time if any candidate line is not valid JSON.

    The caller then falls back to ``parse_jsonl_robust``; clean files take this path, which
    the streaming engine runs in parallel.
    """
    dtype = struct_dtype(_decoded_paths(spec))
    lf, column = _unprefixed(lf, spec, column)
    lf = lf.with_columns(_candidate(column).alias("_candidate"))
    decoded = (
        pl.when(pl.col("_candidate"))
        .then(pl.col(column))
        .otherwise(pl.lit("{}"))
        .str.json_decode(dtype)
    )
    lf = lf.with_columns(decoded.alias("_json"), pl.lit(True).alias("_ok"))
    lf = lf.with_columns(*_flatten_exprs("_json", dtype), *_json_text_exprs(spec, column))
    lf = lf.with_columns(_outcome(spec).alias(OUTCOME))
    return lf.drop("_json", "_ok", "_candidate", BODY, strict=False)


def parse_jsonl_robust(df: pl.DataFrame, spec: FormatSpec, *, column: str = "text") -> pl.DataFrame:
    """Eager: isolates undecodable lines by bisection and rejects only those."""
    dtype = struct_dtype(_decoded_paths(spec))
    df, column = _unprefixed(df, spec, column)
    df = df.with_columns(_candidate(column).alias("_candidate"))
    texts = df.filter("_candidate")[column]
    decoded, ok = decode(texts, dtype)
    parsed = (
        df.filter("_candidate").select("line").with_columns(decoded.alias("_json"), ok.alias("_ok"))
    )
    df = df.join(parsed, on="line", how="left", maintain_order="left")
    df = df.with_columns(*_flatten_exprs("_json", dtype), *_json_text_exprs(spec, column))
    df = df.with_columns(_outcome(spec).alias(OUTCOME))
    return df.drop("_json", "_ok", "_candidate", BODY, strict=False)


def array_elements(text: str, *, whole: bool = True) -> list[tuple[int, str | None]] | None:
    """The entries of a JSON array document (``gcloud logging read --format=json``), each
    as (the line it starts on, compact JSON); None if ``text`` is not an array.

    ``whole``: ``text`` is the whole file, so what cannot be decoded is kept as a last
    ``(line, None)`` entry; otherwise (a head sample) it is a cut entry and dropped.
    """
    start = len(text) - len(text.lstrip())
    # An array of objects; `[162886] Puma starting` is a line of text, not a document.
    if not re.match(r"\[\s*[{\]]", text[start : start + 4096]):
        return None
    decoder = json.JSONDecoder()
    out: list[tuple[int, str | None]] = []
    pos, line, counted = start + 1, 1, 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return out
        line += text.count("\n", counted, pos)
        counted = pos
        try:
            value, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            if whole:
                out.append((line, None))
            return out
        out.append((line, json.dumps(value, separators=(",", ":"))))  # ASCII: no lone surrogates
