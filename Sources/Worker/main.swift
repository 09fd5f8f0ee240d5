// Worker entry point (commands arrive with their issue).
