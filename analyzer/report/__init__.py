"""Reports: the documented JSON contract, terminal text and Markdown, all from ``model``."""

from analyzer.report.markdown import render_markdown
from analyzer.report.model import report_dict
from analyzer.report.text import render_json, render_text

__all__ = ["render_json", "render_markdown", "render_text", "report_dict"]
