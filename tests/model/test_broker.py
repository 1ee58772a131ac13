"""The broker set-up, queue depths on every broker (Redis for real when REDIS_URL is set), worker sweeps."""

from __future__ import annotations

import os
import time
import uuid

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from domain.work_dirs import OWNER_FILE
from model.broker import (
    AnalysisWarmUp,
    DatabaseConnections,
    WorkDirSweep,
    WorkerHeartbeat,
    broker_setup,
    longest_time_limit_s,
    queue_depth,
    redis_message_hash_keys,
)
from model.queues import Queue
from model.sqlite_broker import SQLiteBroker


@pytest.fixture
def restore_broker():
    """Whatever a test installs as the global broker, the next test gets the one it had."""
    previous = dramatiq.get_broker()
    yield
    dramatiq.set_broker(previous)


def _record_actor(broker: dramatiq.Broker, queue: Queue, *, time_limit_ms: int | None = None) -> dramatiq.Actor:
    options = {} if time_limit_ms is None else {"time_limit": time_limit_ms}

    def record(value: str) -> None:
        pass

    return dramatiq.actor(record, broker=broker, queue_name=queue, actor_name=f"record_{queue}", **options)


# ---------------------------------------------------------------- set-up


@pytest.mark.parametrize(
    ("url", "kind"),
    [("sqlite:///{tmp}/broker.sqlite3", SQLiteBroker), ("stub://", StubBroker), ("redis://127.0.0.1:1/0", RedisBroker)],
)
def test_broker_setup_installs_the_broker_the_url_names(settings, tmp_path, restore_broker, url, kind):
    settings.ISOMIX_BROKER_URL = url.format(tmp=tmp_path)

    broker = broker_setup()

    assert type(broker) is kind
    assert dramatiq.get_broker() is broker
    ours = [type(m) for m in broker.middleware if type(m).__module__ == "model.broker"]
    assert ours == [DatabaseConnections, WorkerHeartbeat, WorkDirSweep, AnalysisWarmUp]


def test_broker_setup_refuses_an_unknown_url(settings, restore_broker):
    before = dramatiq.get_broker()
    settings.ISOMIX_BROKER_URL = "amqp://rabbit/"

    with pytest.raises(ValueError, match="amqp://rabbit/"):
        broker_setup()

    assert dramatiq.get_broker() is before


def test_the_installed_actors_use_the_named_queues():
    declared = dramatiq.get_broker().get_declared_queues()

    assert {str(q) for q in Queue} <= declared
    assert {q.removesuffix(".DQ") for q in declared} == {str(q) for q in Queue}


# ---------------------------------------------------------------- queue depth


def test_queue_depth_on_the_sqlite_broker_counts_waiting_delayed_and_taken(tmp_path):
    broker = SQLiteBroker(path=str(tmp_path / "broker.sqlite3"))
    cpu = _record_actor(broker, Queue.CPU)
    gpu = _record_actor(broker, Queue.GPU)
    cpu.send("a")
    cpu.send("b")
    cpu.send_with_options(args=("later",), delay=60_000)
    gpu.send("x")

    taken = broker.consume(Queue.CPU, timeout=50).__next__()  # a worker runs it now

    assert taken is not None
    assert queue_depth(Queue.CPU, broker=broker) == 3
    assert queue_depth(Queue.GPU, broker=broker) == 1


def test_queue_depth_on_the_stub_broker():
    broker = StubBroker()
    actor = _record_actor(broker, Queue.GPU)
    assert queue_depth(Queue.GPU, broker=broker) == 0

    actor.send("a")
    actor.send_with_options(args=("b",), delay=60_000)

    assert queue_depth(Queue.GPU, broker=broker) == 2
    assert queue_depth(Queue.CPU, broker=broker) == 0  # never declared


def test_queue_depth_refuses_a_broker_it_cannot_read():
    class OtherBroker(dramatiq.Broker):
        pass

    with pytest.raises(TypeError, match="OtherBroker"):
        queue_depth(Queue.GPU, broker=OtherBroker())


@pytest.fixture
def redis_broker():
    """A RedisBroker on the REDIS_URL server (scripts/services.sh), in a namespace of its own."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs REDIS_URL (scripts/services.sh start DIR)")
    namespace = f"isomix-test-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=url, namespace=namespace)
    yield broker
    keys = list(broker.client.scan_iter(f"{namespace}:*"))
    if keys:
        broker.client.delete(*keys)
    broker.client.close()


def test_redis_key_layout_is_where_dramatiq_keeps_the_messages(redis_broker):
    actor = _record_actor(redis_broker, Queue.CPU)

    actor.send("now")
    actor.send_with_options(args=("later",), delay=60_000)

    ready, delayed = redis_message_hash_keys(namespace=redis_broker.namespace, queue_name=Queue.CPU)
    assert (ready, delayed) == (f"{redis_broker.namespace}:cpu.msgs", f"{redis_broker.namespace}:cpu.DQ.msgs")
    assert redis_broker.client.type(ready) == b"hash" and redis_broker.client.hlen(ready) == 1
    assert redis_broker.client.type(delayed) == b"hash" and redis_broker.client.hlen(delayed) == 1


def test_redis_queue_depth_counts_waiting_delayed_and_running_as_dramatiq_does(redis_broker):
    actor = _record_actor(redis_broker, Queue.CPU)
    for value in ("a", "b"):
        actor.send(value)
    actor.send_with_options(args=("later",), delay=60_000)
    # Another process's broker (another broker id), as the web process is to a worker.
    observer = RedisBroker(url=os.environ["REDIS_URL"], namespace=redis_broker.namespace)
    observer.declare_queue(Queue.CPU)

    consumer = redis_broker.consume(Queue.CPU, timeout=100)
    running = next(consumer)  # taken by a worker, not yet acknowledged

    assert running is not None
    assert queue_depth(Queue.CPU, broker=redis_broker) == 3
    assert queue_depth(Queue.CPU, broker=redis_broker) == observer.do_qsize(Queue.CPU)  # Dramatiq's own count
    consumer.ack(running)
    assert queue_depth(Queue.CPU, broker=redis_broker) == 2
    assert queue_depth(Queue.CPU, broker=redis_broker) == observer.do_qsize(Queue.CPU)
    assert queue_depth(Queue.GPU, broker=redis_broker) == 0
    consumer.close()
    observer.client.close()


def test_redis_queue_depth_leaves_no_trace_in_redis(redis_broker):
    actor = _record_actor(redis_broker, Queue.GPU)
    actor.send("a")
    before = sorted(redis_broker.client.scan_iter(f"{redis_broker.namespace}:*"))
    heartbeats = redis_broker.client.zrange(f"{redis_broker.namespace}:__heartbeats__", 0, -1)

    for _ in range(20):
        queue_depth(Queue.GPU, broker=redis_broker)

    assert sorted(redis_broker.client.scan_iter(f"{redis_broker.namespace}:*")) == before
    assert redis_broker.client.zrange(f"{redis_broker.namespace}:__heartbeats__", 0, -1) == heartbeats


# ---------------------------------------------------------------- time limits, worker sweep


def test_longest_time_limit_is_the_longest_actor_limit():
    broker = StubBroker()
    _record_actor(broker, Queue.CPU, time_limit_ms=90_000)
    _record_actor(broker, Queue.GPU, time_limit_ms=7_200_000)

    assert longest_time_limit_s(broker=broker) == 7200.0


def test_longest_time_limit_of_actors_without_one_is_dramatiqs_default():
    broker = StubBroker()
    _record_actor(broker, Queue.CPU)

    assert longest_time_limit_s(broker=broker) == 600.0


def _wait_for(predicate, *, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_starting_worker_removes_the_folders_of_killed_jobs(tmpdir_root):
    tmp = tmpdir_root
    abandoned = tmp / "isomix-stems-killed"
    abandoned.mkdir()
    (abandoned / OWNER_FILE).write_text("host=gone pid=1\n")  # nobody holds its lock
    (abandoned / "vocals.flac").write_bytes(b"x" * 1000)
    recent_unmarked = tmp / "isomix-export-recent"
    recent_unmarked.mkdir()
    broker = StubBroker(middleware=[WorkDirSweep()])
    _record_actor(broker, Queue.CPU)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        removed = _wait_for(lambda: not abandoned.exists(), timeout_s=5)
    finally:
        worker.stop()

    assert removed
    assert sorted(p.name for p in tmp.iterdir()) == ["isomix-export-recent"]


@pytest.mark.parametrize(("queue", "warms"), [(Queue.CPU, True), (Queue.GPU, False)])
def test_a_worker_that_takes_analysis_jobs_warms_the_analysis_up_as_it_starts(settings, monkeypatch, queue, warms):
    import threading

    import model.actors.karaoke as karaoke_actors

    settings.ISOMIX_ANALYSIS_WARM_UP = True
    warmed = threading.Event()
    monkeypatch.setattr(karaoke_actors, "analysis_warm_up", warmed.set)
    broker = StubBroker(middleware=[AnalysisWarmUp()])
    _record_actor(broker, queue)

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        # a worker that warms up does so within a second; one that does not is given as long
        happened = warmed.wait(timeout=1.0)
    finally:
        worker.stop()

    assert happened is warms
