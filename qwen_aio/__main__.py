from qwen_aio.cli import main

raise SystemExit(main())
