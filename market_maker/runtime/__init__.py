"""What is left of the bot's start-up plumbing while it is being rehomed: the configuration in core
units (``params``), the ATR warm-up (``warmup``) and the cleanup rule (``cleanup_rules``)."""
