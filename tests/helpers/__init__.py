"""What several test files share: running ``ffnn``, writing IDX and PNG files, the web tests' runs and server,
notebooks for ffnn check's tests.

Imported as ``from helpers.cli import ffnn`` (pytest puts ``tests/`` on the
path); a test file never imports another test file.
"""
