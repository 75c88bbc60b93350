"""The running bot's plumbing outside the actors: start-up checks, config mapping, heartbeat, logging."""
