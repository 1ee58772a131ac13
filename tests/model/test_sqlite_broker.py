"""The embedded broker: messages survive a restart and are delivered once."""

from __future__ import annotations

import dramatiq
import pytest

from model.sqlite_broker import SQLiteBroker


@pytest.fixture
def broker(tmp_path):
    previous = dramatiq.get_broker()
    broker = SQLiteBroker(path=str(tmp_path / "broker.sqlite3"))
    dramatiq.set_broker(broker)
    yield broker
    dramatiq.set_broker(previous)


def _actor(broker, calls: list):
    @dramatiq.actor(broker=broker, queue_name="cpu", actor_name="record")
    def record(value: str) -> None:
        calls.append(value)

    return record


def test_worker_runs_each_message_once(broker):
    calls: list[str] = []
    record = _actor(broker, calls)
    for value in ("a", "b", "c"):
        record.send(value)
    assert broker.pending("cpu") == 3

    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    broker.join("cpu", timeout=10_000)
    worker.stop()

    assert sorted(calls) == ["a", "b", "c"]
    assert broker.pending("cpu") == 0


def test_message_taken_by_a_dead_worker_is_recovered(broker, tmp_path):
    calls: list[str] = []
    record = _actor(broker, calls)
    record.send("lost")
    taken = next(iter(broker.consume("cpu", timeout=100)))  # a worker takes it, then dies
    assert taken is not None
    assert broker.consume("cpu", timeout=100).__next__() is None  # nothing else to take

    restarted = SQLiteBroker(path=str(tmp_path / "broker.sqlite3"))
    restarted.declare_queue("cpu")
    assert restarted.recover() == 1
    again = restarted.consume("cpu", timeout=100).__next__()

    assert again is not None
    assert again.message_id == taken.message_id
    assert again.args == ("lost",)


def test_delayed_message_waits_on_the_delay_queue(broker):
    calls: list[str] = []
    record = _actor(broker, calls)

    record.send_with_options(args=("later",), delay=60_000)

    assert broker.consume("cpu", timeout=50).__next__() is None
    delayed = broker.consume("cpu.DQ", timeout=50).__next__()
    assert delayed is not None and delayed.options["eta"] > 0


def test_nacked_message_is_not_redelivered(broker):
    record = _actor(broker, [])
    record.send("bad")
    consumer = broker.consume("cpu", timeout=50)
    message = consumer.__next__()

    consumer.nack(message)

    assert consumer.__next__() is None
    assert broker.pending("cpu") == 0
