"""An SMTP server for `make bench` that counts the messages it receives and keeps none.

    python bench/smtp_sink.py PORT COUNT_FILE

It stands in for a mail server on another machine, so it should take as little of this one as
it can: a few lines of asyncio that answer the commands our SMTP clients send (EHLO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT), pipelined or not, without parsing the messages. Runs until SIGTERM,
then writes the count to COUNT_FILE.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

received = 0


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global received
    writer.write(b"220 sink ESMTP\r\n")
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await reader.readuntil(b"\r\n.\r\n")
                received += 1
                writer.write(b"250 OK\r\n")
            elif verb == b"EHLO":
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    port, count_file = int(sys.argv[1]), Path(sys.argv[2])
    server = await asyncio.start_server(session, "127.0.0.1", port)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    count_file.write_text("ready")
    async with server:
        await stopped.wait()
    count_file.write_text(str(received))


if __name__ == "__main__":
    asyncio.run(main())
