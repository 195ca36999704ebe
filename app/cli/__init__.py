"""The command line, ``python -m app COMMAND``: the parser and error handling in ``main``, one
module per group of commands (``index``, ``evaluate``, ``admin``, ``analyze``)."""
