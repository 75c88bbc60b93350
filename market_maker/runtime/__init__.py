"""What is left of the bot's start-up plumbing while it is being rehomed: the configuration in core
units (``params``) and the ATR warm-up (``warmup``)."""
