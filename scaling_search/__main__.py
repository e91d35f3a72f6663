import sys

from scaling_search.cli import main

sys.exit(main())
