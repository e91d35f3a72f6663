"""A study as a persistent record: its definition, storage, driver lock, location and the sizing of its defaults."""
