# BuscaEscenas on one GPU box. torch 2.14.1 wheels bring their own CUDA 13 libraries; the base
# image supplies the runtime environment the NVIDIA container toolkit expects.
FROM nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04

# BUSCA_INGEST_ROOT: the only folder the web app may ingest from (mount the archive there);
# left unset it would default to the data directory's parent, which is / here.
# /models holds every model: the Hugging Face cache (HF_HOME) and the exported ONNX text towers
# (XDG_CACHE_HOME) when the container may download; for an isolated network, fill it on a
# connected machine with `python -m app models download NAME... --to DIR`, mount DIR at /models
# and set BUSCA_MODELS_DIR=/models: every model then loads from it and nothing is downloaded.
# BUSCA_HOST=0.0.0.0 (reachable through the published port) comes with no login and no
# BUSCA_ALLOW_ANONYMOUS: the app refuses to start until the operator sets BUSCA_AUTH (or
# BUSCA_AUTH_FILE) with a strong password, or says BUSCA_ALLOW_ANONYMOUS=1 on purpose.
# docker stop sends SIGTERM: the app closes the store before it exits.
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BUSCA_DATA_DIR=/data \
    BUSCA_INGEST_ROOT=/archivo \
    BUSCA_HOST=0.0.0.0 \
    BUSCA_PORT=7860 \
    HF_HOME=/models/huggingface \
    XDG_CACHE_HOME=/models/cache \
    PYTHON=python3

# The same install steps .ci/run exercises, runtime part only (no test browser or test media).
# The build runs as root, so install.sh needs no sudo. Versions come from the base image's
# Ubuntu release; pinning them would break the build at each Ubuntu point update.
# hadolint ignore=DL3008
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 busca \
    && mkdir -p /app /data /models /archivo \
    && chown busca:busca /app /data /models

WORKDIR /app
COPY --chown=busca:busca requirements.txt install.sh ./
RUN ./install.sh --runtime && rm -rf /var/lib/apt/lists/* && chown -R busca:busca /app/.venv
COPY --chown=busca:busca app ./app
COPY --chown=busca:busca pipeline ./pipeline
COPY --chown=busca:busca models ./models

# busca (numeric, so that runAsNonRoot-style checks can verify it is not root)
USER 1000:1000
VOLUME ["/data", "/models"]
EXPOSE 7860
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["/app/.venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('BUSCA_PORT', '7860') + '/', timeout=4)"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "app"]
CMD ["serve"]
