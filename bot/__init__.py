"""qabot's front ends: the Telegram bot (python-telegram-bot) and the ``qabot`` command line.
Both stand on the engine in ``retrieval``; nothing there imports from here."""
