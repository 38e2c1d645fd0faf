"""An SMTP server for `make bench` that counts the messages it receives and keeps none.

    python bench/smtp_sink.py PORT COUNT_FILE

It stands in for a mail server on another machine, so it should take as little of this one as
it can: an asyncio protocol that answers the commands our SMTP clients send (EHLO, MAIL, RCPT,
DATA, RSET, NOOP, QUIT), pipelined or not, with one write for all that one read brought, and
without parsing the messages. Runs until SIGTERM, then writes the count to COUNT_FILE.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

END_OF_DATA = b"\r\n.\r\n"
received = 0


class Session(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        global received
        buffer, replies = self.buffer + data, []
        while buffer:
            if self.in_data:
                # The message's last line ends in CRLF, so its end is CRLF . CRLF; keep the tail
                # of a read that may hold the start of that mark.
                end = buffer.find(END_OF_DATA)
                if end < 0:
                    buffer = buffer[-(len(END_OF_DATA) - 1) :]
                    break
                buffer = buffer[end + len(END_OF_DATA) :]
                self.in_data = False
                received += 1
                replies.append(b"250 OK\r\n")
                continue
            line, found, rest = buffer.partition(b"\r\n")
            if not found:
                break
            buffer = rest
            verb = line[:4].upper()
            if verb == b"DATA":
                # The CRLF that ends the DATA command starts the end mark of an empty message.
                self.in_data, buffer = True, b"\r\n" + buffer
                replies.append(b"354 go ahead\r\n")
            elif verb == b"EHLO":
                replies.append(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            else:
                replies.append(b"250 OK\r\n")
        self.buffer = buffer
        if replies:
            self.transport.write(b"".join(replies))


async def main() -> None:
    port, count_file = int(sys.argv[1]), Path(sys.argv[2])
    server = await asyncio.get_running_loop().create_server(Session, "127.0.0.1", port)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    count_file.write_text("ready")
    async with server:
        await stopped.wait()
    count_file.write_text(str(received))


if __name__ == "__main__":
    asyncio.run(main())
