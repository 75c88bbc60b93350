"""One module per CLI verb. Each exposes ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``."""
