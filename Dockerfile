# The emulator as a CI service container: docker build -t aws-event-emulator . && docker run -p 4566:4566 aws-event-emulator
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 emulator
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER emulator
EXPOSE 4566
# Inside the container the server must listen on every interface so the published port reaches it.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:4566/_emulator/health', timeout=2)"]
CMD ["python", "-m", "emulator", "--host", "0.0.0.0", "--port", "4566"]
