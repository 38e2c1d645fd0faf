"""An SMTP server for `make bench` that counts the messages it receives and keeps none.

    python bench/smtp_sink.py PORT COUNT_FILE

Runs until SIGTERM, then writes the count to COUNT_FILE. bench/load.py starts it at a lower
priority: it stands in for a mail server on another machine and should take little of this one.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Counter:
    received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.received += 1
        return "250 OK"


def main() -> None:
    port, count_file = int(sys.argv[1]), Path(sys.argv[2])
    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    count_file.write_text("ready")
    stopped.wait()
    controller.stop()
    count_file.write_text(str(handler.received))


if __name__ == "__main__":
    main()
