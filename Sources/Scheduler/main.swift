// Scheduler entry point (commands arrive with their issue).
