"""Tests for bot.locks: one holder per conversation, FIFO, nothing kept after."""

from __future__ import annotations

import asyncio

import pytest

from bot.locks import Busy, KeyedLocks


async def test_one_key_is_held_first_in_first_out() -> None:
    locks = KeyedLocks()
    order: list[int] = []
    inside = 0

    async def turn(n: int) -> None:
        nonlocal inside
        async with locks.hold("alice"):
            inside += 1
            assert inside == 1  # never two holders at once
            await asyncio.sleep(0)
            order.append(n)
            inside -= 1

    await asyncio.gather(*(turn(n) for n in range(20)))
    assert order == list(range(20))
    assert len(locks) == 0  # the entry goes with the last holder


async def test_different_keys_do_not_wait_for_each_other() -> None:
    locks = KeyedLocks()
    async with locks.hold("alice"):
        async def other() -> str:
            async with locks.hold("bob"):
                return "bob done"

        assert await asyncio.wait_for(other(), 1) == "bob done"
        assert len(locks) == 1
    assert len(locks) == 0


async def test_an_error_inside_releases_and_forgets() -> None:
    locks = KeyedLocks()
    with pytest.raises(ValueError):
        async with locks.hold("alice"):
            raise ValueError("boom")
    assert len(locks) == 0
    async with locks.hold("alice"):
        assert len(locks) == 1


async def test_a_waiter_cancelled_in_the_queue_leaves_no_trace() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def turn(name: str) -> None:
        async with locks.hold("alice"):
            order.append(name)

    async with locks.hold("alice"):
        first = asyncio.ensure_future(turn("first"))
        doomed = asyncio.ensure_future(turn("doomed"))
        last = asyncio.ensure_future(turn("last"))
        await asyncio.sleep(0)
        assert len(locks) == 1
        doomed.cancel()
        await asyncio.sleep(0)
    await asyncio.gather(first, last)
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert order == ["first", "last"]
    assert len(locks) == 0


async def test_a_bounded_queue_refuses_past_its_bound_and_keeps_the_waiters_order() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def turn(name: str) -> None:
        async with locks.hold("alice", max_waiting=2):
            order.append(name)

    async with locks.hold("alice", max_waiting=2):
        first = asyncio.ensure_future(turn("first"))
        second = asyncio.ensure_future(turn("second"))
        await asyncio.sleep(0)
        assert locks.waiting("alice") == 2
        with pytest.raises(Busy):
            async with locks.hold("alice", max_waiting=2):
                order.append("refused")
        async with locks.hold("bob", max_waiting=2):  # another key is not affected
            assert locks.waiting("bob") == 0
    # Released, the next waiter not yet woken: both still wait, the bound still holds.
    assert locks.waiting("alice") == 2
    with pytest.raises(Busy):
        async with locks.hold("alice", max_waiting=2):
            order.append("refused")
    await asyncio.gather(first, second)
    assert order == ["first", "second"]
    assert len(locks) == 0 and locks.waiting("alice") == 0
