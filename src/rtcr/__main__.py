from rtcr.cli import main

main()
