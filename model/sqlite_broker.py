"""A Dramatiq broker backed by one SQLite file, for the embedded default.

The embedded default must run background jobs with no server (chosen by ``sqlite:///`` in
``ISOMIX_BROKER_URL``, see :func:`model.broker.broker_setup`). Messages live in a table
(``queued`` → ``consumed`` → deleted on ack, ``dead`` on nack), so a restart loses
nothing: :meth:`SQLiteBroker.recover` puts messages that a stopped worker had taken
back on their queue, and the actors are idempotent, so a re-run is safe.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from dramatiq.broker import Broker, Consumer, MessageProxy
from dramatiq.common import current_millis, dq_name
from dramatiq.errors import QueueNotFound
from dramatiq.message import Message

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    state TEXT NOT NULL,
    body BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_queue_state ON messages (queue, state, enqueued_at);
"""


class _Database:
    """One connection per thread; every statement is its own short transaction."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.execute_script(_SCHEMA)

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        return self.connection().execute(sql, params)

    def execute_script(self, sql: str) -> None:
        self.connection().executescript(sql)


class SQLiteBroker(Broker):
    """Dramatiq broker storing messages in the SQLite file at ``path``."""

    def __init__(self, *, path: str, middleware=None) -> None:
        super().__init__(middleware=middleware)
        self.queues: dict[str, bool] = {}
        self.db = _Database(path)

    def declare_queue(self, queue_name: str) -> None:
        if queue_name in self.queues:
            return
        self.emit_before("declare_queue", queue_name)
        self.queues[queue_name] = True
        self.emit_after("declare_queue", queue_name)
        delayed = dq_name(queue_name)
        self.delay_queues.add(delayed)
        self.emit_after("declare_delay_queue", delayed)

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        queue_name = message.queue_name
        if delay is not None:
            queue_name = dq_name(queue_name)
            message = message.copy(queue_name=queue_name, options={"eta": current_millis() + delay})
        if queue_name not in self.queues and queue_name not in self.delay_queues:
            raise QueueNotFound(queue_name)
        self.emit_before("enqueue", message, delay)
        self.db.execute(
            "INSERT OR REPLACE INTO messages (id, queue, state, body, enqueued_at) VALUES (?, ?, 'queued', ?, ?)",
            (message.message_id, queue_name, message.encode(), current_millis()),
        )
        self.emit_after("enqueue", message, delay)
        return message

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 1000) -> Consumer:
        if queue_name not in self.queues and queue_name not in self.delay_queues:
            raise QueueNotFound(queue_name)
        return _SQLiteConsumer(self.db, queue_name, timeout=timeout)

    def recover(self) -> int:
        """Put messages taken by a worker that is gone back on their queues.

        Call only when no worker of this broker is running (the embedded worker calls it
        as it starts). Returns how many messages were requeued.
        """
        return self.db.execute("UPDATE messages SET state = 'queued' WHERE state = 'consumed'").rowcount

    def pending(self, queue_name: str) -> int:
        """How many messages wait on ``queue_name`` (and its delay queue)."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM messages WHERE queue IN (?, ?) AND state IN ('queued', 'consumed')",
            (queue_name, dq_name(queue_name)),
        ).fetchone()
        return int(row[0])

    def flush(self, queue_name: str) -> None:
        self.db.execute("DELETE FROM messages WHERE queue IN (?, ?)", (queue_name, dq_name(queue_name)))

    def flush_all(self) -> None:
        self.db.execute("DELETE FROM messages")

    def join(self, queue_name: str, *, timeout: int | None = None) -> None:
        deadline = timeout and time.monotonic() + timeout / 1000
        while self.pending(queue_name):
            if deadline and time.monotonic() > deadline:
                raise TimeoutError(f"queue {queue_name} not drained in {timeout} ms")
            time.sleep(0.05)


class _SQLiteConsumer(Consumer):
    def __init__(self, db: _Database, queue_name: str, *, timeout: int) -> None:
        self.db = db
        self.queue_name = queue_name
        self.timeout_s = timeout / 1000

    def __next__(self) -> MessageProxy | None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            row = self.db.execute(
                "UPDATE messages SET state = 'consumed' WHERE id = ("
                " SELECT id FROM messages WHERE queue = ? AND state = 'queued' ORDER BY enqueued_at LIMIT 1"
                ") RETURNING body",
                (self.queue_name,),
            ).fetchone()
            if row is not None:
                return MessageProxy(Message.decode(row[0]))
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)

    def ack(self, message: MessageProxy) -> None:
        self.db.execute("DELETE FROM messages WHERE id = ? AND queue = ?", (message.message_id, self.queue_name))

    def nack(self, message: MessageProxy) -> None:
        self.db.execute(
            "UPDATE messages SET state = 'dead' WHERE id = ? AND queue = ?", (message.message_id, self.queue_name)
        )

    def requeue(self, messages: Iterable[MessageProxy]) -> None:
        for message in messages:
            self.db.execute(
                "UPDATE messages SET state = 'queued' WHERE id = ? AND queue = ?",
                (message.message_id, self.queue_name),
            )
