from codeteam.cli import main

raise SystemExit(main())
