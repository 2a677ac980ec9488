"""Several endpoints behind one profile (`base_urls`): load spread, a failing one taken out and back,
a batch that loses nothing when one is killed mid-way, `check` probing each."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter

import pytest
from backend_support import KEY_ENV, quick_profile
from fake_openai import FakeOpenAI

from turnloom.core.batch.executors import AsyncExecutor
from turnloom.core.batch.manifest import BatchConfig, DialogueStatus, load_manifest
from turnloom.core.batch.run import generate
from turnloom.core.cli import main
from turnloom.core.config import TurnloomConfig, load_config
from turnloom.core.endpoint.endpoint import Endpoint
from turnloom.core.endpoint.exchange import ChatRequest
from turnloom.core.endpoint.pool import EndpointPool
from turnloom.core.endpoint.wire import AiohttpWire
from turnloom.core.errors import ConfigError
from turnloom.core.players.setup import BackendSetup
from turnloom.core.storage.journal import load_session

ROLES = {"task": "fake", "user": "fake", "assistant": "fake"}


def free_port() -> int:
    server = FakeOpenAI()
    port = server._server.server_address[1]
    server._server.server_close()
    return port


def hello(n: int = 0) -> ChatRequest:
    return ChatRequest(role="assistant", messages=[{"role": "user", "content": f"hello {n}"}])


def test_requests_spread_over_every_endpoint_by_load(key):
    servers = [FakeOpenAI(latency=0.02).start() for _ in range(4)]
    try:
        profile = quick_profile(servers[0], base_urls=[s.base_url for s in servers], max_concurrency=16, stream=False)
        endpoint = Endpoint("fake", profile, batch=True)

        async def go():
            try:
                await asyncio.gather(*(endpoint.chat(hello(i)) for i in range(40)))
            finally:
                await endpoint.aclose()

        asyncio.run(go())
        counts = [len(s.requests) for s in servers]
        assert sum(counts) == 40
        assert all(8 <= c <= 12 for c in counts), counts
    finally:
        for server in servers:
            server.stop()


def test_a_failing_endpoint_is_taken_out_its_requests_go_elsewhere_and_it_comes_back(key):
    port = free_port()
    down = f"http://127.0.0.1:{port}/v1"

    async def send(pool: EndpointPool, count: int) -> None:
        for i in range(count):
            body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"hi {i}"}]}).encode()
            assert (await pool.post(body))["choices"]

    async def go(live: FakeOpenAI) -> None:
        pool = EndpointPool([down, live.base_url], lambda url: AiohttpWire(url, "k", 2.0, 5.0, url), cooldown=0.3)
        try:
            await send(pool, 6)
            state = {m["url"]: m for m in pool.state()}
            # the dead one failed once and was left alone after that; nothing was lost
            assert state[down]["sent"] == 1 and not state[down]["healthy"]
            assert len(live.requests) == 6
            with FakeOpenAI(port=port) as back:
                await asyncio.sleep(0.35)
                await send(pool, 6)
                assert len(back.requests) >= 2  # in rotation again after its time out
            assert pool.state()[0]["failures"] == 0
        finally:
            await pool.aclose()

    with FakeOpenAI() as live:
        asyncio.run(go(live))


@pytest.mark.parametrize("client", ["aiohttp", "openai"])
def test_an_endpoint_killed_mid_batch_loses_no_dialogue_and_runs_none_twice(key, tmp_path, client):
    servers = [FakeOpenAI(latency=0.01).start() for _ in range(4)]
    try:
        profile = quick_profile(
            servers[0], base_urls=[s.base_url for s in servers], max_concurrency=16, timeout=2, client=client
        )
        backends = BackendSetup.create(TurnloomConfig(profiles={"fake": profile}))
        executor = AsyncExecutor(16, backends=backends, processes=1)
        config = BatchConfig(
            domain="retail", tasks=1, roles=ROLES, profiles={"fake": {"base_url": servers[0].base_url}}
        )
        victim = servers[2]

        def kill_when_busy() -> None:
            while len(victim.requests) < 5:
                threading.Event().wait(0.005)
            victim.stop()

        killer = threading.Thread(target=kill_when_busy, daemon=True)
        killer.start()

        async def go():
            try:
                return await generate(config, tmp_path, 24, executor, handle_signals=False)
            finally:
                await backends.aclose()

        report = asyncio.run(go())
        killer.join(timeout=5)
        assert report.complete and report.failed == 0 and report.ran == 24
        manifest = load_manifest(tmp_path)
        assert Counter(e.seed for e in manifest.dialogues) == Counter(range(24))  # each once
        assert all(e.status is DialogueStatus.DONE for e in manifest.dialogues)
        for entry in manifest.dialogues:
            assert load_session(tmp_path / entry.file).finish_reason is not None
        assert len(victim.requests) >= 5
        assert all(len(s.requests) > 0 for s in servers)
    finally:
        for server in servers:
            if server is not servers[2]:
                server.stop()


def test_check_probes_each_endpoint_of_a_profile(key, tmp_path, capsys):
    port = free_port()
    with FakeOpenAI() as one, FakeOpenAI() as two:
        path = tmp_path / "turnloom.toml"
        urls = [one.base_url, two.base_url]
        path.write_text(
            f'[profiles.pool]\nbase_urls = {json.dumps(urls)}\nmodel = "m"\napi_key_env = "{KEY_ENV}"\n'
            "timeout = 1\nmax_retries = 0\n",
            encoding="utf-8",
        )
        assert main(["--config", str(path), "check", "--profile", "pool"]) == 0
        printed = capsys.readouterr().out
        assert one.base_url in printed and two.base_url in printed
        assert one.requests and two.requests
        dead = f"http://127.0.0.1:{port}/v1"
        path.write_text(path.read_text().replace(json.dumps(urls), json.dumps([one.base_url, dead])))
        assert main(["--config", str(path), "check", "--profile", "pool"]) == 1
        assert f"# {dead}: cannot connect after 0 retries (connection refused)" in capsys.readouterr().out


def test_a_malformed_url_in_base_urls_is_named(tmp_path):
    path = tmp_path / "turnloom.toml"
    path.write_text('[profiles.pool]\nbase_urls = ["http://127.0.0.1:8000/v1", "ftp://x"]\nmodel = "m"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(str(path))
    assert "base_urls[1]" in str(caught.value) and "pool" in str(caught.value)
    path.write_text('[profiles.pool]\nbase_urls = ["http://a:1/v1", "http://b:2/v1"]\nmodel = "m"\n')
    profile = load_config(str(path)).profiles["pool"]
    assert profile.base_url == "http://a:1/v1" and profile.urls == ["http://a:1/v1", "http://b:2/v1"]
