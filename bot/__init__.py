"""The Telegram front end of qabot (python-telegram-bot)."""
