"""``ffnn serve``: a local web page to draw a digit and watch each trained network read it.

- :mod:`ffnn.web.registry`: the served runs, named, loaded with the safe loaders;
- :mod:`ffnn.web.upload`: upload limits, safe decoding, the preprocessing of ``ffnn predict``;
- :mod:`ffnn.web.app`: the FastAPI app (the page and the JSON API);
- :mod:`ffnn.web.serve`: the command, on uvicorn;
- ``static/``: the page (``index.html``, ``app.js``, ``style.css``), no build step, no network.

Importing this package imports neither FastAPI nor uvicorn (the ``web`` extra).
"""
