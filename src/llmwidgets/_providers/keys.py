"""The environment variables API keys are read from, named once.

The providers read them; the kernel's provider registry (_request.py) and zero-config discovery
only look at them, so this module imports nothing, least of all an SDK.
"""

from __future__ import annotations

OPENAI_API_KEY = "OPENAI_API_KEY"
ANTHROPIC_API_KEY = "ANTHROPIC_API_KEY"
#: The variable Google's documentation asks for: named when no Google key is set.
GEMINI_API_KEY = "GEMINI_API_KEY"
GOOGLE_API_KEY = "GOOGLE_API_KEY"

#: Where Google's key is looked for when the alias names no variable: the SDK's own order.
GOOGLE_KEY_VARIABLES = (GOOGLE_API_KEY, GEMINI_API_KEY)
#: Every variable a provider reads its key from when an alias names none.
DEFAULT_KEY_VARIABLES = (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, GOOGLE_API_KEY)
