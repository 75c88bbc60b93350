"""What the bot does once before its first order: wait out the exchange's limits, check the account."""
