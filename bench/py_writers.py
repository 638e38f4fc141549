"""py_writers.py — the ways a Python program can write 'line#i\n' per line.

    python3 py_writers.py MODE FILE LINES

    sync      open(FILE, 'w'): Python's own 8 KiB buffer (what most programs do)
    raw       open(FILE, 'wb', buffering=0): one write() per line (like -u)
    double    a double-buffered writer in pure Python: the program fills one
              bytearray while a thread writes the other
"""
import os
import sys
import threading


class DoubleBufferedWriter:
    """Two bytearrays: the program appends to `fill`; when it holds `size`
    bytes it becomes `flight` and a thread writes it while the program fills
    the other one.  The program waits only if both are full."""

    def __init__(self, path, size=64 * 1024):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.size = size
        self.fill = bytearray()
        self.spare = bytearray()
        self.flight = None
        self.closing = False
        self.error = None
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def write(self, data):
        self.fill += data
        if len(self.fill) >= self.size:
            self._hand_off()

    def _hand_off(self):
        with self.cond:
            while self.flight is not None:
                self.cond.wait()
            if self.error:
                raise self.error
            self.flight, self.fill, self.spare = self.fill, self.spare, None
            self.cond.notify_all()

    def _run(self):
        while True:
            with self.cond:
                while self.flight is None and not self.closing:
                    self.cond.wait()
                if self.flight is None:
                    return
                buf = self.flight
            try:
                with memoryview(buf) as whole:
                    done = 0
                    while done < len(buf):
                        done += os.write(self.fd, whole[done:])
            except OSError as e:
                self.error = e
            buf.clear()
            with self.cond:
                self.flight, self.spare = None, buf
                self.cond.notify_all()

    def close(self):
        if self.fill:
            self._hand_off()
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.thread.join()
        os.close(self.fd)
        if self.error:
            raise self.error


def main():
    mode, path, lines = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "sync":
        with open(path, "w") as f:
            for i in range(lines):
                f.write(f"line#{i}\n")
    elif mode == "raw":
        with open(path, "wb", buffering=0) as f:
            for i in range(lines):
                f.write(b"line#%d\n" % i)
    elif mode == "double":
        w = DoubleBufferedWriter(path)
        for i in range(lines):
            w.write(b"line#%d\n" % i)
        w.close()
    else:
        sys.exit(f"py_writers: unknown mode {mode}")


main()
