"""`python -m llmwidgets "prompt" [-m model]`: see `llmwidgets._cli`."""

import sys

from llmwidgets._cli import main

sys.exit(main())
