"""`qwen-aio bench` and `qwen-aio eval`: measurement, not product.

Only those two subcommands import this package (the CLI loads it by name when one of them
runs); the window and the frozen build never contain it.
"""
