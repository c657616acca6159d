from keyless.cli import main

main()
