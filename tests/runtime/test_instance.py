"""Traps never kill the process; a trapped instance is replaced; limits apply per call."""

from __future__ import annotations

import contextlib
import threading

import pytest
import wasmtime
from dataflare.errors import ComponentLoadError, GuestTrap, ProcessingError
from dataflare.model import PluginKind
from dataflare.runtime import CompileCache, EngineConfig, load_component
from dataflare.runtime.instance import PluginInstance, RawExports
from dataflare.runtime.limits import Limits

from runtime.conftest import record, run_filter


def test_trap_raises_guest_trap_and_the_next_call_gets_a_fresh_instance(probe_loaded):
    with PluginInstance(probe_loaded, RawExports) as instance:
        assert run_filter(instance, b"keep-1") is True
        with pytest.raises(GuestTrap, match=r"trapped: wasm trap: wasm `unreachable`"):
            run_filter(instance, b"trap")
        assert (instance.traps, instance.instantiations) == (1, 1)
        assert run_filter(instance, b"keep-2") is True
        assert run_filter(instance, b"drop") is False
        assert (instance.traps, instance.instantiations) == (1, 2)


def test_world_objects_are_rebuilt_for_each_instance(probe_loaded):
    made: list[wasmtime.Store] = []

    def factory(store: wasmtime.Store, inst: object) -> RawExports:
        made.append(store)
        return RawExports(store, inst)  # type: ignore[arg-type]

    with PluginInstance(probe_loaded, factory) as instance:
        for value in (b"trap", b"keep", b"trap", b"keep"):
            with contextlib.suppress(GuestTrap):
                run_filter(instance, value)
    assert len(made) == 3 and len({id(s) for s in made}) == 3


def test_every_export_of_a_dummy_traps_cleanly(components, tmp_path):
    loaded = load_component(components["filter"], cache=CompileCache(tmp_path))
    with PluginInstance(loaded, RawExports) as instance:
        for _ in range(3):
            with pytest.raises(GuestTrap):
                instance.call(lambda world: world("describe"))
        assert instance.traps == 3


def test_plugin_error_keeps_the_instance(probe_loaded):
    with PluginInstance(probe_loaded, RawExports) as instance:
        result = run_filter(instance, b"err")
        assert (result.tag, result.payload) == ("processing", "probe refused the record")

        def refuse(world: RawExports) -> None:
            world("filter", record(b"keep"))
            raise ProcessingError("decoded by the adapter")

        with pytest.raises(ProcessingError):
            instance.call(refuse)
        assert (instance.traps, instance.instantiations) == (0, 1)


def test_host_side_exception_mid_call_replaces_the_instance(probe_loaded):
    with PluginInstance(probe_loaded, RawExports) as instance:

        def buggy(world: RawExports) -> None:
            world("filter", record(b"keep"))
            raise KeyError("adapter bug")

        with pytest.raises(KeyError):
            instance.call(buggy)
        assert instance.traps == 1
        assert run_filter(instance, b"keep") is True


def test_fuel_limit_stops_an_infinite_loop(probe_limited):
    with PluginInstance(probe_limited, RawExports, limits=Limits(fuel_per_call=50_000_000)) as p:
        assert run_filter(p, b"keep") is True
        with pytest.raises(GuestTrap, match=r"all fuel consumed.*\(fuel limit 50000000 per call\)"):
            run_filter(p, b"spin")
        assert run_filter(p, b"keep") is True


def test_timeout_stops_an_infinite_loop(probe_limited):
    with PluginInstance(probe_limited, RawExports, limits=Limits(timeout=0.2)) as p:
        with pytest.raises(GuestTrap, match=r"interrupt \(time limit 0.2s per call\)"):
            run_filter(p, b"spin")
        assert run_filter(p, b"keep") is True


def test_memory_limit_stops_a_hog(probe_limited):
    with PluginInstance(probe_limited, RawExports, limits=Limits(memory_bytes=64 << 20)) as p:
        with pytest.raises(GuestTrap):
            run_filter(p, b"hog")
        assert run_filter(p, b"keep") is True


def test_memory_limit_below_the_guest_start_size_fails_instantiation(probe_loaded):
    with pytest.raises(ComponentLoadError, match=r"probe_filter-\w+\.wasm: cannot instantiate"):
        PluginInstance(probe_loaded, RawExports, limits=Limits(memory_bytes=64 * 1024))


def test_limits_the_engine_cannot_enforce_are_refused(probe_loaded):
    with pytest.raises(ValueError, match=r"fuel_per_call needs .*fuel=True"):
        PluginInstance(probe_loaded, RawExports, limits=Limits(fuel_per_call=10))
    with pytest.raises(ValueError, match=r"timeout needs .*epoch=True"):
        PluginInstance(probe_loaded, RawExports, limits=Limits(timeout=1.0))
    with pytest.raises(ValueError, match="memory_bytes must be positive"):
        Limits(memory_bytes=0).check(EngineConfig())


def test_counting_engine_without_limits_runs_unbounded(probe_limited):
    with PluginInstance(probe_limited, RawExports) as p:
        assert [run_filter(p, b"keep") for _ in range(3)] == [True] * 3


def test_closed_instance_refuses_calls(probe_loaded):
    instance = PluginInstance(probe_loaded, RawExports, name="closing")
    instance.close()
    instance.close()
    assert instance.closed
    with pytest.raises(ValueError, match="'closing' is closed"):
        run_filter(instance, b"keep")


def test_one_instance_shared_by_threads_serves_one_call_at_a_time(probe_loaded):
    errors: list[BaseException] = []
    results: list[bool] = []

    with PluginInstance(probe_loaded, RawExports) as instance:

        def worker(prefix: bytes) -> None:
            try:
                for i in range(25):
                    value = prefix + str(i).encode()
                    results.append(run_filter(instance, value) is value.startswith(b"keep"))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(p,)) for p in (b"keep", b"drop")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors and results == [True] * 50


def test_unknown_export_is_a_lookup_error_not_a_crash(probe_loaded):
    with PluginInstance(probe_loaded, RawExports) as instance:
        with pytest.raises(LookupError, match="no exported function 'transform'"):
            instance.call(lambda world: world("transform", record(b"x")))
        assert instance.call(lambda world: world("describe")).name == "probe"


def test_load_then_instantiate_any_kind(components, tmp_path):
    cache = CompileCache(tmp_path)
    for kind in PluginKind:
        loaded = load_component(components[kind.value], kind, cache=cache)
        with PluginInstance(loaded, RawExports, stage="st") as instance:
            assert instance.instantiations == 1 and instance.name == kind.value


def test_a_factory_that_calls_the_guest_is_guarded_like_a_call(probe_loaded):
    # Adapters replay `configure` in the factory after a trap; that replay can fail too.
    plan = iter([b"keep", b"trap", b"keep"])  # what the factory's guest call does, in turn

    def factory(store: wasmtime.Store, inst: object) -> RawExports:
        world = RawExports(store, inst)  # type: ignore[arg-type]
        world("filter", record(next(plan)))
        return world

    with PluginInstance(probe_loaded, factory) as instance:
        with pytest.raises(GuestTrap):
            run_filter(instance, b"trap")  # the call traps...
        with pytest.raises(GuestTrap):
            run_filter(instance, b"keep")  # ...then the replacement's factory traps
        assert (instance.traps, instance.instantiations) == (2, 1)
        assert run_filter(instance, b"keep") is True
        assert instance.instantiations == 2


def test_a_factory_plugin_error_passes_through_and_is_retried(probe_loaded):
    failures = iter([False, True, False])

    def factory(store: wasmtime.Store, inst: object) -> RawExports:
        if next(failures):
            raise ProcessingError("replayed configure was refused")
        return RawExports(store, inst)  # type: ignore[arg-type]

    with PluginInstance(probe_loaded, factory) as instance:
        with pytest.raises(GuestTrap):
            run_filter(instance, b"trap")
        with pytest.raises(ProcessingError, match="replayed configure"):
            run_filter(instance, b"keep")
        assert run_filter(instance, b"keep") is True
        assert (instance.traps, instance.instantiations) == (1, 2)


def test_compatible_newer_component_links_against_the_host_log(components, tmp_path):
    # The host defines log@0.1.0; wasmtime matches the component's log@0.1.7 import to it.
    loaded = load_component(components["filter@0.1.7"], cache=CompileCache(tmp_path))
    with PluginInstance(loaded, RawExports) as instance:
        assert instance.instantiations == 1
