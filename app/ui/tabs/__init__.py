"""One module per tab of the web app: its builder (``build_*_tab``) and its handlers."""
