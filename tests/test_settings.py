"""The loop's settings: checked when given, changed safely from any thread, applied when documented."""

import threading

import pytest

import al_widget as alw

CLASSES = ["dark", "bright"]


@pytest.fixture
def loop(two_class, centroid, loop_factory):
    return loop_factory(alw.Dataset(two_class[0], CLASSES), centroid)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("query_size", 0, "query_size must be an int >= 1, got 0"),
        ("query_size", 2.5, "query_size must be an int >= 1, got 2.5"),
        ("mc_samples", 0, "mc_samples must be an int >= 1 or None, got 0"),
        ("temperature", -1.0, r"temperature must be None or a finite number >= 0, got -1.0"),
        ("budget", -3, "budget must be an int >= 0 or None, got -3"),
        ("rounds", -1, "rounds must be an int >= 0 or None, got -1"),
        ("target", float("nan"), "target must be None or a finite number >= 0 and <= 1, got nan"),
        ("target", -0.5, "target must be None or a finite number >= 0 and <= 1, got -0.5"),
        ("target", 1.5, "target must be None or a finite number >= 0 and <= 1, got 1.5"),
        ("pool_sample", 0, r"pool_sample must be an int >= 1 or None \(score the whole pool\)"),
        ("heuristic", "nope", "nope"),
    ],
)
def test_a_bad_setting_is_refused_by_name_when_given(two_class, centroid, name, value, message):
    with pytest.raises(ValueError, match=message):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid, start=False, **{name: value})


@pytest.mark.parametrize(("name", "value"), [("query_size", 2.5), ("budget", "10")])
def test_a_count_setting_that_is_not_an_int_is_a_type_error_too(two_class, centroid, name, value):
    with pytest.raises(TypeError, match=f"{name} must be an int >= "):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid, start=False, **{name: value})


def test_a_bad_setting_set_later_is_refused_and_the_old_value_kept(loop):
    with pytest.raises(ValueError, match="temperature must be None or a finite number >= 0"):
        loop.temperature = -0.5
    assert loop.temperature is None


def test_a_target_beyond_what_a_metric_can_be_is_refused_when_set_later(loop):
    with pytest.raises(ValueError, match="target must be None or a finite number >= 0 and <= 1"):
        loop.target = 1.5
    assert loop.target is None


def test_a_non_positive_chunk_size_is_refused(two_class, centroid):
    with pytest.raises(ValueError, match="chunk_size must be an int >= 1, got -5"):
        alw.ActiveLoop(alw.Dataset(two_class[0], CLASSES), centroid, chunk_size=-5, start=False)


def test_settings_changed_from_several_threads_at_once_all_land_consistently(loop):
    values = {
        "query_size": [1, 2, 3, 4],
        "temperature": [None, 0.5, 1.0, 2.0],
        "mc_samples": [None, 1, 2, 3],
        "pool_sample": [10, 20, 30, None],
        "budget": [None, 10, 20, 30],
    }
    start = threading.Barrier(len(values))
    errors = []

    def hammer(name, options):
        start.wait()
        try:
            for k in range(200):
                setattr(loop, name, options[k % len(options)])
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=hammer, args=item) for item in values.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    # 200 sets each, so each setting ends on its last value: no thread's write was lost.
    assert {name: getattr(loop, name) for name in values} == {
        name: options[199 % len(options)] for name, options in values.items()
    }
    assert loop.wait(10)


def test_changing_pool_sample_re_ranks_now(loop):
    assert loop.wait(10)
    loop.pool_sample = 7
    assert loop.wait(10)
    assert len(loop.ranking) == 7


def test_changing_temperature_waits_for_the_next_round(loop):
    assert loop.wait(10)
    rounds = len(loop.history)
    loop.temperature = 1.0
    assert loop.wait(0.2)
    assert len(loop.history) == rounds


def test_a_budget_lowered_below_the_labels_stops_the_loop_at_once(two_class, loop):
    loop.commit(0, alw.Label("dark"))
    loop.budget = 1
    assert loop.stop_reason == "budget reached (budget 1 / 1)"
