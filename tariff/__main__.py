"""``python -m tariff``: the same as the ``tariff`` command."""
import sys

from tariff.cli.main import main

sys.exit(main())
