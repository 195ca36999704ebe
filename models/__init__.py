"""Real models behind the pipeline's protocols. The only package that imports torch,
open_clip, transformers, faster_whisper or qwen_vl_utils; each is imported lazily."""
