"""The pykka actor shell of the bot."""
