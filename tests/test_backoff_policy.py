"""The one exponential backoff (installation/backoff.py), the one HOST:PORT parser, and the kiosk's failure
policy built on them: pure, no processes, no sleeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from installation.address import parse_address
from installation.backoff import Backoff
from installation.kiosk.config import KioskConfig
from installation.kiosk.policy import FailurePolicy


def test_backoff_doubles_up_to_its_longest_and_starts_over_after_a_success() -> None:
    b = Backoff(5, 300)
    assert [b.fail() for _ in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    b.reset()
    assert b.fail() == 5 and b.failures == 1
    assert Backoff(5, 300).delay(100_000) == 300  # weeks of failures: no float overflow


def test_backoff_with_free_failures_restarts_a_lone_crash_at_once() -> None:
    b = Backoff(1, 60, free=1)
    assert [b.fail() for _ in range(9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]


def test_parse_address() -> None:
    assert parse_address("8080") == ("127.0.0.1", 8080)
    assert parse_address(":9000") == ("127.0.0.1", 9000)
    assert parse_address("0.0.0.0:80") == ("0.0.0.0", 80)
    assert parse_address("[::1]:8080") == ("::1", 8080)
    for bad in ("", "host:", "host:http", "1:70000"):
        with pytest.raises(ValueError, match="--http"):
            parse_address(bad, "--http")


def test_failure_policy_backs_off_then_enters_safe_mode_and_a_stable_trial_leaves_it() -> None:
    config = KioskConfig(show=Path("show.yaml"), backoff_base=1, backoff_max=60, max_failures=3,
                         failure_window=600, safe_retry=300)
    policy = FailurePolicy(config)
    assert policy.failed(0.0, safe_player=False) == 0  # a lone failure: at once
    assert policy.failed(1.0, safe_player=False) == 1
    assert policy.failed(2.0, safe_player=False) is None  # the third within the window: safe mode
    assert "3 failures in 600 s" in policy.enter_safe_mode(2.0)
    assert policy.holding and policy.safe_mode
    assert policy.failed(3.0, safe_player=True) == 1  # the holding screen itself: just brought back
    assert not policy.retry_due(100.0, safe_player=True) and policy.retry_due(302.0, safe_player=True)
    policy.start_trial()
    assert not policy.holding
    assert policy.stable(safe_player=False) and not policy.safe_mode  # the show is back
    assert policy.failed(1000.0, safe_player=False) == 0  # old failures left the window; the count starts over
