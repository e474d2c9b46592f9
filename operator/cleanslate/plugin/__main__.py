import sys

from cleanslate.plugin.main import main

sys.exit(main())
