"""BuscaEscenas domain: decoding, semantic segmentation, storage, search, analysis.

Never imports gradio, torch or transformers. Models reach the pipeline through the
small protocols in :mod:`pipeline.protocols`.
"""
