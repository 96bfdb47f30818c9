# Dropout Lab: the web app, CPU only, WORKERS processes on PORT (defaults: 2 on 8000).
#
# torch must be the CPU build: pass PyTorch's CPU wheel index at build time, e.g.
#   docker build --build-arg TORCH_INDEX_URL=<PyTorch CPU wheel index> -t dropout-lab .
# Without it pip takes torch 2.13.0 from the default index, which on x86_64 is the much
# larger CUDA build (it still runs, on the CPU).
# Uploads go to /app/var/uploads: mount one volume there for every replica (compose.yaml), so
# that a picture uploaded through one container is animated by any other.
FROM python:3.11-slim

ARG TORCH_INDEX_URL=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=2 \
    DROPOUT_LAB_UPLOADS=/app/var/uploads

RUN useradd --create-home --uid 1000 lab
WORKDIR /app

COPY constraints.txt pyproject.toml README.md ./
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" "torch==2.13.0"; \
    fi

COPY dropouts ./dropouts
COPY app ./app
COPY static ./static
COPY templates ./templates
COPY sample_images ./sample_images
# Editable, so that app/ finds static/, templates/ and sample_images/ beside it in /app.
# Only the runtime dependencies: no dev extras.
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && mkdir -p /app/var/uploads && chown 1000:1000 /app/var/uploads

USER 1000
EXPOSE 8000
# Readiness: /healthz answers 200 once the worker decodes the samples and can write uploads.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# HOST, PORT and WORKERS from the environment (docker run -e WORKERS=4 -e PORT=9000 …).
CMD ["dropout-lab", "serve"]
