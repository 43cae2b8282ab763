"""``python -m evprice.cli``: the same as the ``evprice`` command."""

import sys

from evprice.cli import main

sys.exit(main())
