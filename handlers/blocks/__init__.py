"""Pure Block Kit builders: functions from data to dicts, no I/O."""
