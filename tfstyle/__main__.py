import sys

from tfstyle.cli import main

sys.exit(main())
