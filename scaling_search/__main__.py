from scaling_search.cli import main
import sys
sys.exit(main())
