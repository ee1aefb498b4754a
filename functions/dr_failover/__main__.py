import sys

from .procedure import main

sys.exit(main())
