"""Protocol drivers: each knows its wire and nothing else (no Qt, no database, no alarms)."""
