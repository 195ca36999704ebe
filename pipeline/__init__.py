"""BuscaEscenas domain, laid out in the order the data flows:

- ``sources``: where a video comes from (files, folders, lists, URLs through yt-dlp);
- ``media``: decoding it into sampled frames (PyAV);
- ``segment``: frames to semantic classes, scenes and shots;
- ``index``: per-video artifacts, writing shots to the store, the video catalog;
- ``store``: Qdrant (embedded Edge, local mode, or a server) behind one facade;
- ``search``: queries to ranked shots, relevance feedback, the per-video overview;
- ``evaluation``: recall against documentalists' logs;
- ``analysis``: shots described by a vision-language model, one video or batch jobs.

``records``, ``errors`` and ``protocols`` are the shared vocabulary; ``core`` the plumbing.
Never imports gradio, torch or transformers: models reach the pipeline through the small
protocols in :mod:`pipeline.protocols`.
"""
