"""`python -m llmwidgets "prompt" [-m model]`: see `llmwidgets.cli`."""

import sys

from llmwidgets.cli import main

sys.exit(main())
