"""Preload module of guarded fork servers: importing it makes this process end with its parent.

Only a multiprocessing fork server imports it (``process_guard.pool_context`` puts it in the preload list);
it runs once, in that server, before any worker is forked.
"""

from fate_grpc.common import process_guard

process_guard.guard_forkserver()
