"""The reports of ``ffnn check``: terminal, JSON, Markdown, Gradescope and CSV.

Each writer takes the list of :class:`~ffnn.check.result.SubmissionResult`
that :func:`~ffnn.check.check_submissions` returns and nothing else, so every
report says the same thing in its own format.
"""
from .gradescope import Rubric, RubricError, gradescope_results, load_rubric, write_gradescope
from .machine import to_json, write_csv, write_json
from .markdown import markdown_page, page_names, write_markdown
from .terminal import format_evidence, render_terminal, submission_line

__all__ = ["render_terminal", "submission_line", "format_evidence", "to_json", "write_json", "write_csv",
           "markdown_page", "page_names", "write_markdown", "Rubric", "RubricError", "load_rubric",
           "gradescope_results", "write_gradescope"]
