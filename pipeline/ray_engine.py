"""`--engine ray`: the same CallProcessor in Ray actors, one per worker, each loading the models once.

Local by default (`ray.init` with `batch.workers` CPUs on this machine). For a multi-node cluster set
`batch.ray_address` (e.g. `ray://head:10001` or `auto` on a cluster node); audio paths must then be readable
at the same path on every node (shared storage). Records come back to this process, which alone writes the
JSONL file, so resume and crash safety are the same as with the local engine.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

from pipeline.offline import OFFLINE_ENV
from pipeline.types import CallInput

log = logging.getLogger(__name__)


class _CallWorker:
    def __init__(self, config: dict[str, Any]):
        from pipeline.offline import enforce_offline
        from pipeline.process import CallProcessor

        enforce_offline()
        self.processor = CallProcessor(config)
        self.processor.load_models()

    def process(self, call: CallInput) -> dict[str, Any]:
        return self.processor.process(call)


def run_on_ray(
    config: dict[str, Any], calls: list[CallInput], workers: int, address: str = "", cpus_per_worker: float = 1.0
) -> Iterator[dict[str, Any]]:
    try:
        import ray
        from ray.util import ActorPool
    except ImportError as exc:
        raise RuntimeError("the Ray engine needs ray: pip install 'ray[data]==2.60.0' (scripts/setup.sh installs it)") from exc

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address or None,
            num_cpus=None if address else max(workers, int(workers * cpus_per_worker + 0.999)),
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": dict(OFFLINE_ENV)},
        )
    actor_class = ray.remote(num_cpus=cpus_per_worker)(_CallWorker)
    actors = [actor_class.remote(config) for _ in range(max(1, min(workers, len(calls))))]
    try:
        pool = ActorPool(actors)
        yield from pool.map_unordered(lambda actor, call: actor.process.remote(call), calls)
    finally:
        for actor in actors:
            ray.kill(actor)
        if started_here:
            ray.shutdown()
