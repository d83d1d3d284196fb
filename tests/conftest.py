"""Settings for the whole suite.

Tests write nothing into the working tree: hypothesis keeps its examples (to
replay a failure on the next run) and caches in the system's temporary
directory instead of ./.hypothesis, in this process and in the child
processes tests start.
"""
import os
import tempfile

from hypothesis.configuration import set_hypothesis_home_dir

HOME = os.path.join(tempfile.gettempdir(), "tariff-hypothesis")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = HOME
set_hypothesis_home_dir(HOME)


# -- database connections ------------------------------------------------------
# Every app a test builds opens its own pool (up to 30 PostgreSQL connections
# each); left to the garbage collector, a full run passes PostgreSQL's
# max_connections (100) and later tests fail to connect. So every Database
# made during a test gives its pooled connections back when the test ends
# (an engine stays usable after dispose: it reconnects on demand, so
# longer-lived fixtures keep working).
import weakref  # noqa: E402

import pytest  # noqa: E402

from tariff.storage import db as _db  # noqa: E402

_live_databases: "weakref.WeakSet[_db.Database]" = weakref.WeakSet()
_database_init = _db.Database.__init__


def _tracked_init(self, *args, **kwargs):
    _database_init(self, *args, **kwargs)
    _live_databases.add(self)


_db.Database.__init__ = _tracked_init


@pytest.fixture(autouse=True)
def _connections_back_after_each_test():
    yield
    for database in list(_live_databases):
        database.dispose()
