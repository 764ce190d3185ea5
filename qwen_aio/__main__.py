"""`python -m qwen_aio`: the same as the `qwen-aio` command."""

from qwen_aio.cli import main

raise SystemExit(main())
