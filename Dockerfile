# One image for every process kind: web (gunicorn), worker -Q gpu, worker -Q cpu.
# TORCH_INDEX picks the torch build: the CPU wheels by default, a CUDA index for GPU workers.
FROM python:3.11-slim-bookworm

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

RUN apt-get update \
 && apt-get install -y --no-install-recommends libfluidsynth3 fluid-soundfont-gm espeak-ng \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings
WORKDIR /app
RUN pip install --no-cache-dir "torch==${TORCH_VERSION}" --index-url "${TORCH_INDEX}"
COPY pyproject.toml README.md ./
COPY config config
COPY worker worker
COPY generation generation
COPY audio audio
COPY surveys surveys
COPY evaluation evaluation
COPY dashboard dashboard
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=0 SECRET_KEY=build-only-collectstatic-signs-nothing-with-it python manage.py collectstatic --noinput

RUN useradd --create-home app && mkdir -p /data/media /data/static && chown -R app /data /app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
