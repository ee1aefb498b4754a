import sys

from .uploader import main

sys.exit(main())
